#include "net/tls_context.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/buffer.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace atrium::net {

namespace {

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Result<std::string> readFile(const std::string& path, const std::string& key_name) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error::invalid(fmt::format("{} = \"{}\": the file cannot be read: {}", key_name, path,
                                      std::strerror(errno)),
                          key_name);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Bio memoryBio(const std::string& text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), BIO_free);
}

X509Ptr parseCertificate(const std::string& pem) {
  auto bio = memoryBio(pem);
  return X509Ptr(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr,
                 X509_free);
}

std::string hex(const unsigned char* data, unsigned int n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
  return out;
}

std::string fingerprintOf(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) != 1) return {};
  return hex(md, n);
}

}  // namespace

std::string certificateFingerprint(const std::string& pem) {
  auto cert = parseCertificate(pem);
  ERR_clear_error();
  return cert ? fingerprintOf(cert.get()) : std::string();
}

Result<ServerTls> loadServerTls(const TlsFiles& files) {
  auto cert_pem = readFile(files.cert_file, files.cert_key_name);
  if (!cert_pem) return cert_pem.error();
  auto key_pem = readFile(files.key_file, files.key_key_name);
  if (!key_pem) return key_pem.error();

  auto cert = parseCertificate(*cert_pem);
  if (!cert) {
    ERR_clear_error();
    return Error::invalid(fmt::format("{} = \"{}\": not a PEM certificate (expected \"-----BEGIN "
                                      "CERTIFICATE-----\")",
                                      files.cert_key_name, files.cert_file),
                          files.cert_key_name);
  }
  KeyPtr key(nullptr, EVP_PKEY_free);
  {
    auto bio = memoryBio(*key_pem);
    // An empty passphrase callback: an encrypted key fails instead of prompting on the terminal.
    auto no_passphrase = [](char*, int, int, void*) { return 0; };
    if (bio) key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  }
  if (!key) {
    ERR_clear_error();
    return Error::invalid(fmt::format("{} = \"{}\": not an unencrypted PEM private key",
                                      files.key_key_name, files.key_file),
                          files.key_key_name);
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return Error::invalid(
        fmt::format("{} = \"{}\": the private key does not match the "
                    "certificate in {} = \"{}\"",
                    files.key_key_name, files.key_file, files.cert_key_name, files.cert_file),
        files.key_key_name);
  }

  namespace ssl = boost::asio::ssl;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  context->use_certificate_chain(boost::asio::buffer(*cert_pem), ec);
  if (!ec) context->use_private_key(boost::asio::buffer(*key_pem), ssl::context::pem, ec);
  if (ec) {
    ERR_clear_error();
    return Error::invalid(fmt::format("{} = \"{}\" and {} = \"{}\": OpenSSL refused the pair: {}",
                                      files.cert_key_name, files.cert_file, files.key_key_name,
                                      files.key_file, ec.message()),
                          files.cert_key_name);
  }
  return ServerTls{std::move(context), fingerprintOf(cert.get())};
}

}  // namespace atrium::net
