// HTTPS on the API: a real node serves a certificate the test made (self-signed, SAN 127.0.0.1),
// reached with the project's HttpClient checking the certificate against that one. Plain HTTP to
// the HTTPS port gets no answer; answers carry HSTS; SIGHUP swaps the pair for new connections
// while an open connection goes on; a bad new pair is refused, logged, and the old one stays; bad
// configuration refuses to start with a message naming the key; api.device_listen serves feedback
// in plain HTTP and nothing else.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "net/tls_context.h"
#include "support/atrium_node.h"
#include "support/process.h"
#include "support/tls_test_server.h"

namespace atrium::testing {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

std::string tlsSection(const std::filesystem::path& dir) {
  return fmt::format("tls_cert = \"{}\"\ntls_key = \"{}\"\n", (dir / "cert.pem").string(),
                     (dir / "key.pem").string());
}

void writePair(const std::filesystem::path& dir, const SelfSignedCertificate& pair) {
  writeFile(dir / "cert.pem", pair.certificate_pem);
  writeFile(dir / "key.pem", pair.key_pem);
}

// The fingerprint of the certificate a new connection is served.
std::string servedFingerprint(const AtriumNode& node) {
  auto r = node.http("GET", "/healthz");
  if (!r.ok() || r->status != 200) return {};
  return r->peer_certificate_sha256;
}

// One TLS connection kept open across requests (keep-alive), checked against `trusted`.
class KeptConnection {
 public:
  KeptConnection(std::uint16_t port, const std::string& trusted)
      : ssl_(asio::ssl::context::tls_client), stream_(ioc_, ssl_) {
    ssl_.add_certificate_authority(asio::buffer(trusted));
    ssl_.set_verify_mode(asio::ssl::verify_peer);
    asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    stream_.next_layer().connect(ep);
    stream_.handshake(asio::ssl::stream_base::client);
  }
  unsigned get(const std::string& target) {
    net::Request req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(true);
    http::write(stream_, req);
    net::Response res;
    http::read(stream_, buffer_, res);
    return res.result_int();
  }

 private:
  asio::io_context ioc_;
  asio::ssl::context ssl_;
  asio::ssl::stream<asio::ip::tcp::socket> stream_;
  boost::beast::flat_buffer buffer_;
};

TEST(TlsTest, ServesHttpsWithHstsAndRefusesPlainHttp) {
  TempDir tmp;
  const auto pair = makeSelfSignedCertificate();
  writePair(tmp.path(), pair);
  AtriumNode node(tmp.path() / "n", {.api_section_extra = tlsSection(tmp.path()),
                                     .tls_trusted_pem = pair.certificate_pem});
  ASSERT_EQ(node.init().exit_code, 0) << node.log();
  ASSERT_TRUE(node.start().ok()) << node.log();

  auto health = node.http("GET", "/healthz");
  ASSERT_TRUE(health.ok()) << health.error().message;
  EXPECT_EQ(health->status, 200u);
  EXPECT_EQ(health->header("Strict-Transport-Security").value_or(""), "max-age=31536000");
  EXPECT_EQ(health->peer_certificate_sha256, net::certificateFingerprint(pair.certificate_pem));
  auto systems = node.http("GET", "/api/v1/systems");
  ASSERT_TRUE(systems.ok()) << systems.error().message;
  EXPECT_EQ(systems->header("Strict-Transport-Security").value_or(""), "max-age=31536000");

  // Plain HTTP to the HTTPS port: no HTTP answer at all.
  net::HttpClient plain;
  auto refused =
      plain.request("GET", "127.0.0.1", node.port(), "/healthz", {}, {}, std::chrono::seconds(5));
  EXPECT_FALSE(refused.ok()) << refused->status << " " << refused->body;

  // A client that does not trust the certificate is refused by its own check.
  net::HttpClientOptions untrusting;
  untrusting.tls = true;
  untrusting.verify_tls = true;
  untrusting.trusted_pem = makeSelfSignedCertificate().certificate_pem;
  EXPECT_FALSE(plain.request("GET", "127.0.0.1", node.port(), "/healthz", {}, {}, untrusting).ok());

  // TLS 1.2 at least: a TLS 1.1 client is refused, a TLS 1.2 one served (openssl s_client).
  if (std::filesystem::exists("/usr/bin/openssl")) {
    const std::string where = fmt::format("127.0.0.1:{}", node.port());
    auto old_tls = runProgram({"/usr/bin/openssl", "s_client", "-connect", where, "-tls1_1"},
                              std::chrono::seconds(10));
    EXPECT_NE(old_tls.output.find("alert protocol version"), std::string::npos) << old_tls.output;
    auto tls12 = runProgram({"/usr/bin/openssl", "s_client", "-connect", where, "-tls1_2"},
                            std::chrono::seconds(10));
    EXPECT_NE(tls12.output.find("Protocol  : TLSv1.2"), std::string::npos) << tls12.output;
  }

  EXPECT_EQ(servedFingerprint(node), net::certificateFingerprint(pair.certificate_pem))
      << node.log();
}

TEST(TlsTest, SighupServesTheNewPairAndKeepsTheOldOneWhenTheNewOneIsBad) {
  TempDir tmp;
  const auto first = makeSelfSignedCertificate();
  const auto second = makeSelfSignedCertificate();
  const auto third = makeSelfSignedCertificate();
  // The three share one subject name, so the client trusts one at a time (OpenSSL picks a trust
  // anchor by name): the one the test expects to be served.
  writePair(tmp.path(), first);
  AtriumNode node(tmp.path() / "n", {.api_section_extra = tlsSection(tmp.path()),
                                     .tls_trusted_pem = first.certificate_pem});
  ASSERT_EQ(node.init().exit_code, 0) << node.log();
  ASSERT_TRUE(node.start().ok()) << node.log();
  const std::string fp1 = net::certificateFingerprint(first.certificate_pem);
  const std::string fp2 = net::certificateFingerprint(second.certificate_pem);
  ASSERT_EQ(servedFingerprint(node), fp1);

  // A connection opened before the reload goes on after it.
  KeptConnection kept(node.port(), first.certificate_pem);
  ASSERT_EQ(kept.get("/healthz"), 200u);

  writePair(tmp.path(), second);
  node.process()->signal(SIGHUP);
  node.setTlsTrustedPem(second.certificate_pem);
  EXPECT_TRUE(waitFor([&] { return servedFingerprint(node) == fp2; }, std::chrono::seconds(10)))
      << node.log();
  EXPECT_NE(node.log().find("http.tls_reloaded"), std::string::npos);
  EXPECT_EQ(kept.get("/healthz"), 200u) << "the connection opened before SIGHUP was dropped";

  // A bad pair: the third certificate with the first one's key. Refused, logged, old pair stays.
  writeFile(tmp.path() / "cert.pem", third.certificate_pem);
  writeFile(tmp.path() / "key.pem", first.key_pem);
  node.process()->signal(SIGHUP);
  EXPECT_TRUE(
      waitFor([&] { return node.log().find("http.tls_reload_refused") != std::string::npos; },
              std::chrono::seconds(10)))
      << node.log();
  EXPECT_NE(node.log().find("does not match the certificate"), std::string::npos) << node.log();
  EXPECT_EQ(servedFingerprint(node), fp2);

  // Not PEM at all: the same.
  writeFile(tmp.path() / "cert.pem", "not a certificate\n");
  node.process()->signal(SIGHUP);
  EXPECT_TRUE(waitFor([&] { return node.log().find("not a PEM certificate") != std::string::npos; },
                      std::chrono::seconds(10)))
      << node.log();
  EXPECT_EQ(servedFingerprint(node), fp2);
  EXPECT_EQ(kept.get("/healthz"), 200u);
  EXPECT_TRUE(node.process()->running());
}

struct BadTls {
  std::string name;
  std::string api_lines;  // inside [api]; {dir} is the test dir
  std::string expected;   // in the refusal
};

TEST(TlsTest, BadTlsConfigurationRefusesToStartWithTheKeyAndTheReason) {
  TempDir tmp;
  const auto pair = makeSelfSignedCertificate();
  const auto other = makeSelfSignedCertificate();
  const auto dir = tmp.path();
  writeFile(dir / "cert.pem", pair.certificate_pem);
  writeFile(dir / "key.pem", pair.key_pem);
  writeFile(dir / "other-key.pem", other.key_pem);
  writeFile(dir / "garbage.pem", "hello\n");
  writeFile(dir / "unreadable.pem", pair.key_pem);
  std::filesystem::permissions(dir / "unreadable.pem", std::filesystem::perms::none);
  const std::string d = dir.string();
  std::vector<BadTls> cases = {
      {"missing-cert", fmt::format("tls_cert = \"{}/nope.pem\"\ntls_key = \"{}/key.pem\"\n", d, d),
       "api.tls_cert = \"" + d + "/nope.pem\": the file cannot be read"},
      {"not-pem-cert",
       fmt::format("tls_cert = \"{}/garbage.pem\"\ntls_key = \"{}/key.pem\"\n", d, d),
       "not a PEM certificate"},
      {"not-pem-key",
       fmt::format("tls_cert = \"{}/cert.pem\"\ntls_key = \"{}/garbage.pem\"\n", d, d),
       "api.tls_key = \"" + d + "/garbage.pem\": not an unencrypted PEM private key"},
      {"mismatch",
       fmt::format("tls_cert = \"{}/cert.pem\"\ntls_key = \"{}/other-key.pem\"\n", d, d),
       "the private key does not match the certificate"},
      {"only-cert", fmt::format("tls_cert = \"{}/cert.pem\"\n", d), "api.tls_key must be set"},
  };
  if (::geteuid() != 0) {  // root reads any file
    cases.push_back(
        {"unreadable-key",
         fmt::format("tls_cert = \"{}/cert.pem\"\ntls_key = \"{}/unreadable.pem\"\n", d, d),
         "api.tls_key = \"" + d + "/unreadable.pem\": the file cannot be read: Permission denied"});
  }
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    AtriumNode node(dir / c.name, {.api_section_extra = c.api_lines});
    // `init` reads the same config: the one-key case is refused there already.
    auto init = node.init();
    if (init.exit_code != 0) {
      EXPECT_NE(init.output.find(c.expected), std::string::npos) << init.output;
      continue;
    }
    auto started = node.start(std::chrono::seconds(15));
    ASSERT_FALSE(started.ok()) << node.log();
    EXPECT_NE(started.error().message.find(c.expected), std::string::npos)
        << started.error().message;
    EXPECT_FALSE(node.process()->running());
  }
}

TEST(TlsTest, DeviceListenServesFeedbackInPlainHttpAndNothingElse) {
  TempDir tmp;
  const auto pair = makeSelfSignedCertificate();
  writePair(tmp.path(), pair);
  const std::uint16_t device_port = freePort();
  AtriumNode node(
      tmp.path() / "n",
      {.api_section_extra =
           tlsSection(tmp.path()) + fmt::format("device_listen = \"127.0.0.1:{}\"\n", device_port),
       .tls_trusted_pem = pair.certificate_pem});
  ASSERT_EQ(node.init().exit_code, 0) << node.log();
  ASSERT_TRUE(node.start().ok()) << node.log();

  net::HttpClient plain;
  auto health = plain.request("GET", "127.0.0.1", device_port, "/healthz");
  ASSERT_TRUE(health.ok()) << health.error().message << node.log();
  EXPECT_EQ(health->status, 200u);
  EXPECT_FALSE(health->header("Strict-Transport-Security").has_value());
  auto api = plain.request("GET", "127.0.0.1", device_port, "/api/v1/systems");
  ASSERT_TRUE(api.ok());
  EXPECT_EQ(api->status, 404u);
  EXPECT_NE(api->body.find("api.device_listen"), std::string::npos) << api->body;
  // Feedback reaches the feedback handler (which does not know this secret).
  auto feedback = plain.request("POST", "127.0.0.1", device_port, "/feedback/unknown-secret",
                                "<x/>", {{"Content-Type", "text/xml"}});
  ASSERT_TRUE(feedback.ok());
  EXPECT_EQ(feedback->body.find("api.device_listen"), std::string::npos) << feedback->body;
  // The API itself stays on HTTPS.
  auto systems = node.http("GET", "/api/v1/systems");
  ASSERT_TRUE(systems.ok()) << systems.error().message;
  EXPECT_EQ(systems->status, 200u);
}

}  // namespace
}  // namespace atrium::testing
