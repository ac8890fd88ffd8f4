// HttpServer on port 0 with trivial handlers: keep-alive, answers from another thread, limits,
// read timeout, IPv6, graceful stop.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "net/http_client.h"
#include "net/http_server.h"

namespace atrium::net {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace http = boost::beast::http;

// Echoes the method, target and body; /slow answers from another thread after a delay;
// anything under /missing is a 404 in the API's error shape.
class EchoHandler : public HttpHandler {
 public:
  void handle(Request request, const RequestInfo& info, Respond respond) override {
    ++calls;
    Response res{http::status::ok, request.version()};
    res.set(http::field::content_type, "application/json");
    if (request.target() == "/slow") {
      std::thread([respond, res]() mutable {
        std::this_thread::sleep_for(300ms);
        res.body() = R"({"slow":true})";
        respond(std::move(res));
      }).detach();
      return;
    }
    if (request.target().starts_with("/missing")) {
      res.result(http::status::not_found);
      res.body() = jsonErrorBody("not_found", "no such resource: " + std::string(request.target()));
      respond(std::move(res));
      return;
    }
    res.body() = json{{"method", std::string(request.method_string())},
                      {"target", std::string(request.target())},
                      {"body", request.body()},
                      {"remote", info.remote_address}}
                     .dump();
    respond(std::move(res));
  }
  std::atomic<int> calls{0};
};

class NetHttpServerTest : public ::testing::Test {
 protected:
  void startServer(HttpServerOptions options = {}) {
    options.port = 0;
    server_ = std::make_unique<HttpServer>(options, handler_);
    auto port = server_->start();
    ASSERT_TRUE(port.ok()) << port.error().message;
    port_ = *port;
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    if (server_) server_->stop();
  }

  // Opens a raw connection, writes `data`, and reads until the server closes (or 5 s pass).
  // Returns what was read and whether the server closed the connection.
  std::pair<std::string, bool> rawExchange(const std::string& data) {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket socket(ioc);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port_});
    if (!data.empty()) boost::asio::write(socket, boost::asio::buffer(data));
    std::string got;
    bool closed = false;
    std::array<char, 4096> buf{};
    std::function<void()> readMore = [&] {
      socket.async_read_some(boost::asio::buffer(buf),
                             [&](boost::system::error_code ec, std::size_t n) {
                               got.append(buf.data(), n);
                               if (ec) {
                                 closed = true;
                                 return;
                               }
                               readMore();
                             });
    };
    readMore();
    ioc.run_for(5s);
    return {got, closed};
  }

  EchoHandler handler_;
  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
};

TEST_F(NetHttpServerTest, AnswersAndKeepsTheConnectionAlive) {
  startServer();
  HttpConnection conn("127.0.0.1", port_);
  for (int i = 0; i < 5; ++i) {
    auto r = conn.request("POST", "/echo?x=" + std::to_string(i), R"({"n":1})");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200u);
    EXPECT_TRUE(r->keep_alive);
    auto j = json::parse(r->body);
    EXPECT_EQ(j["method"], "POST");
    EXPECT_EQ(j["target"], "/echo?x=" + std::to_string(i));
    EXPECT_EQ(j["body"], R"({"n":1})");
    EXPECT_EQ(j["remote"], "127.0.0.1");
    EXPECT_EQ(r->header("server").value_or(""), "atrium");
  }
  EXPECT_EQ(conn.connects(), 1u);
  EXPECT_EQ(handler_.calls.load(), 5);

  // The one-shot client closes after each request.
  HttpClient client;
  auto once = client.request("GET", "127.0.0.1", port_, "/once");
  ASSERT_TRUE(once.ok()) << once.error().message;
  EXPECT_EQ(once->status, 200u);
  EXPECT_FALSE(once->keep_alive);
}

TEST_F(NetHttpServerTest, HandlersMayAnswerFromAnotherThread) {
  startServer();
  // Two slow requests in parallel finish in about one delay: the network thread is not blocked.
  auto t0 = std::chrono::steady_clock::now();
  auto a = std::async(std::launch::async,
                      [&] { return HttpClient().request("GET", "127.0.0.1", port_, "/slow"); });
  auto b = std::async(std::launch::async,
                      [&] { return HttpClient().request("GET", "127.0.0.1", port_, "/slow"); });
  auto ra = a.get();
  auto rb = b.get();
  ASSERT_TRUE(ra.ok() && rb.ok());
  EXPECT_EQ(ra->body, R"({"slow":true})");
  EXPECT_EQ(rb->status, 200u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST_F(NetHttpServerTest, OversizedBodyGets413AndTheConnectionCloses) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  startServer(options);
  HttpConnection conn("127.0.0.1", port_);
  auto ok = conn.request("POST", "/small", std::string(1024, 'x'));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->status, 200u);
  auto big = conn.request("POST", "/big", std::string(200 * 1024, 'x'));
  ASSERT_TRUE(big.ok()) << big.error().message;
  EXPECT_EQ(big->status, 413u);
  EXPECT_FALSE(big->keep_alive);
  EXPECT_EQ(big->header("content-type").value_or(""), "application/json");
  auto j = json::parse(big->body);
  EXPECT_EQ(j["error"]["code"], "payload_too_large");
  EXPECT_NE(j["error"]["message"].get<std::string>().find("1024 bytes"), std::string::npos);
  EXPECT_EQ(handler_.calls.load(), 1);
  // The connection object reconnects for the next request.
  auto after = conn.request("GET", "/after");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, 200u);
  EXPECT_EQ(conn.connects(), 2u);
}

TEST_F(NetHttpServerTest, OversizedHeadersAndGarbageAreRefused) {
  HttpServerOptions options;
  options.max_header_bytes = 1024;
  startServer(options);
  HttpClient client;
  auto r = client.request("GET", "127.0.0.1", port_, "/h", {}, {{"X-Big", std::string(4096, 'h')}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 431u);
  EXPECT_EQ(json::parse(r->body)["error"]["code"], "headers_too_large");

  auto [text, closed] = rawExchange("NOT HTTP AT ALL\r\n\r\n");
  EXPECT_TRUE(closed);
  EXPECT_EQ(text.rfind("HTTP/1.1 400", 0), 0u) << text;
  EXPECT_NE(text.find("invalid_argument"), std::string::npos) << text;
  EXPECT_EQ(handler_.calls.load(), 0);
}

TEST_F(NetHttpServerTest, HandlerErrorShape) {
  startServer();
  auto r = HttpClient().request("GET", "127.0.0.1", port_, "/missing/thing");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404u);
  EXPECT_EQ(json::parse(r->body),
            json::parse(
                R"({"error":{"code":"not_found","message":"no such resource: /missing/thing"}})"));
}

TEST_F(NetHttpServerTest, SilentClientIsDisconnectedAfterTheReadTimeout) {
  HttpServerOptions options;
  options.read_timeout = 200ms;
  startServer(options);
  auto t0 = std::chrono::steady_clock::now();
  auto [text, closed] = rawExchange("");
  EXPECT_TRUE(closed);
  EXPECT_TRUE(text.empty()) << text;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);

  // Half a request is no better.
  auto [partial, partial_closed] = rawExchange("GET / HTTP/1.1\r\nHost: x\r\n");
  EXPECT_TRUE(partial_closed);
  EXPECT_EQ(handler_.calls.load(), 0);

  // A kept-alive connection that goes quiet is closed too; the client reconnects.
  HttpConnection conn("127.0.0.1", port_);
  ASSERT_TRUE(conn.request("GET", "/a").ok());
  std::this_thread::sleep_for(500ms);
  auto again = conn.request("GET", "/b");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(conn.connects(), 2u);
}

TEST_F(NetHttpServerTest, ListensOnIpv6Loopback) {
  HttpServerOptions options;
  options.host = "[::1]";
  options.port = 0;
  HttpServer server(options, handler_);
  auto port = server.start();
  if (!port.ok()) GTEST_SKIP() << "no IPv6 loopback: " << port.error().message;
  EXPECT_EQ(server.address(), "[::1]:" + std::to_string(*port));
  auto r = HttpClient().request("GET", "::1", *port, "/v6");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(json::parse(r->body)["remote"], "::1");
  server.stop();
}

TEST_F(NetHttpServerTest, BindFailureIsAnError) {
  startServer();
  HttpServerOptions options;
  options.port = port_;
  HttpServer second(options, handler_);
  auto r = second.start();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(std::to_string(port_)), std::string::npos) << r.error().message;
}

TEST_F(NetHttpServerTest, StopFinishesRequestsInProgress) {
  startServer();
  auto slow = std::async(std::launch::async,
                         [&] { return HttpClient().request("GET", "127.0.0.1", port_, "/slow"); });
  std::this_thread::sleep_for(100ms);  // the request is in the handler
  server_->stop();
  auto r = slow.get();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200u);
  auto refused = HttpClient().request("GET", "127.0.0.1", port_, "/late", {}, {}, 1s);
  EXPECT_FALSE(refused.ok());
}

TEST(NetHttpClientTest, UnreachableServerIsUnavailable) {
  auto r = HttpClient().request("GET", "127.0.0.1", 1, "/", {}, {}, 2s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

TEST(NetHttpServerCap, DerivedFromTheDescriptorLimitLessTheReserve) {
  EXPECT_EQ(connectionCapFor(1024, 72), 952u);
  EXPECT_EQ(connectionCapFor(256, 72), 184u);
  EXPECT_EQ(connectionCapFor(64, 72), 16u);  // never below 16
  EXPECT_EQ(connectionCapFor(0, 72), 0u);    // unlimited: no cap
}

TEST_F(NetHttpServerTest, AtTheCapTheLongestIdleConnectionMakesRoomForANewOne) {
  HttpServerOptions options;
  options.max_connections = 4;
  startServer(options);
  // Eight connections that send nothing: four are accepted, four wait in the backlog.
  boost::asio::io_context ioc;
  std::vector<boost::asio::ip::tcp::socket> idle;
  for (int i = 0; i < 8; ++i) {
    idle.emplace_back(ioc);
    idle.back().connect({boost::asio::ip::make_address("127.0.0.1"), port_});
  }
  // A request still gets its answer: idle connections are closed to make room.
  HttpClient client;
  auto r = client.request("GET", "127.0.0.1", port_, "/after-the-cap", {}, {}, 5s);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200u);
  // The oldest idle connection was the first closed.
  char byte = 0;
  boost::system::error_code ec;
  idle.front().read_some(boost::asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, boost::asio::error::eof);
}

TEST_F(NetHttpServerTest, HeadAnswersLikeGetWithoutTheBody) {
  startServer();
  auto [text, closed] = rawExchange("HEAD /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(closed);
  const std::string get_body =
      json{{"method", "HEAD"}, {"target", "/x"}, {"body", ""}, {"remote", "127.0.0.1"}}.dump();
  EXPECT_EQ(text.substr(0, 15), "HTTP/1.1 200 OK") << text;
  EXPECT_NE(text.find("Content-Length: " + std::to_string(get_body.size())), std::string::npos)
      << text;
  EXPECT_EQ(text.size(), text.find("\r\n\r\n") + 4) << text;
}

}  // namespace
}  // namespace atrium::net
