// A minimal HTTPS server for tests: a self-signed certificate made at start with OpenSSL (EC
// P-256, CN=localhost, SAN 127.0.0.1), one thread, one request per connection, answers from a
// function. HttpServer has no TLS; this is only for testing the client side of HTTPS.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "net/http_server.h"

namespace atrium::testing {

struct SelfSignedCertificate {
  std::string certificate_pem;
  std::string key_pem;
};

inline SelfSignedCertificate makeSelfSignedCertificate() {
  auto fail = [](const char* what) { throw std::runtime_error(what); };
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) fail("EVP_EC_gen");
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, decltype(&X509_EXTENSION_free)> san(
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"),
      X509_EXTENSION_free);
  if (!san || !X509_add_ext(cert.get(), san.get(), -1)) fail("subjectAltName");
  if (!X509_sign(cert.get(), key.get(), EVP_sha256())) fail("X509_sign");

  auto toPem = [&](auto write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!write(bio.get())) fail("PEM_write");
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
  };
  SelfSignedCertificate out;
  out.certificate_pem = toPem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); });
  out.key_pem = toPem([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  return out;
}

class TlsTestServer {
 public:
  using Answer = std::function<net::Response(const net::Request&)>;

  explicit TlsTestServer(Answer answer)
      : answer_(std::move(answer)),
        ssl_(boost::asio::ssl::context::tls_server),
        acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    SelfSignedCertificate cert = makeSelfSignedCertificate();
    ssl_.use_certificate_chain(boost::asio::buffer(cert.certificate_pem));
    ssl_.use_private_key(boost::asio::buffer(cert.key_pem), boost::asio::ssl::context::pem);
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }

  ~TlsTestServer() {
    ioc_.stop();
    thread_.join();
  }

  std::uint16_t port() const { return port_; }
  int handshakes() const { return handshakes_.load(); }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec,
                                  boost::asio::ip::tcp::socket socket) {
      if (ec) return;
      serve(std::move(socket));
      accept();
    });
  }

  // One exchange, synchronously on the server thread (tests send one request at a time).
  void serve(boost::asio::ip::tcp::socket socket) {
    namespace http = boost::beast::http;
    boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream(std::move(socket), ssl_);
    boost::system::error_code ec;
    stream.handshake(boost::asio::ssl::stream_base::server, ec);
    if (ec) return;
    ++handshakes_;
    boost::beast::flat_buffer buffer;
    net::Request request;
    http::read(stream, buffer, request, ec);
    if (ec) return;
    net::Response response = answer_(request);
    response.version(request.version());
    response.keep_alive(false);
    response.prepare_payload();
    http::write(stream, response, ec);
    stream.shutdown(ec);
  }

  Answer answer_;
  boost::asio::io_context ioc_;
  boost::asio::ssl::context ssl_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<int> handshakes_{0};
  std::thread thread_;
};

}  // namespace atrium::testing
