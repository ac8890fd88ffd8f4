// `atrium demo` as the README runs it: within seconds the API shows the simulated fleet
// registered and polled, events and calls arriving; SIGTERM stops it cleanly.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "support/process.h"

namespace atrium::testing {
namespace {

TEST(DemoTest, ShowsALivePolledFleetWithinSeconds) {
  TempDir tmp;
  const auto port = freePort();
  // An address block of its own, so parallel tests do not collide.
  const std::string sim_address = fmt::format("127.{}.{}.1", 30 + getpid() % 50, getpid() % 250);
  auto demo = ChildProcess::spawn(
      {ATRIUM_BINARY, "demo", "--data-dir", (tmp.path() / "demo").string(), "--listen",
       fmt::format("127.0.0.1:{}", port), "--endpoints", "12", "--bridges", "1", "--sim-address",
       sim_address, "--admin-password", "demo-test-password"},
      tmp.path() / "demo.log");
  ASSERT_TRUE(demo.ok()) << demo.error().message;
  auto& process = **demo;
  // The demo prints how to sign in; its administrator signs in with that password.
  std::string token;
  auto signIn = [&] {
    net::HttpClient client;
    auto r = client.request("POST", "127.0.0.1", port, "/api/v1/sessions",
                            R"({"user":"admin","password":"demo-test-password"})");
    if (r.ok() && r->status == 201) token = nlohmann::json::parse(r->body)["token"];
    return !token.empty();
  };
  ASSERT_TRUE(waitFor(signIn, std::chrono::seconds(30))) << process.output();
  auto get = [&](const std::string& target) {
    net::HttpClient client;
    auto r = client.request("GET", "127.0.0.1", port, target, {},
                            {{"Authorization", "Bearer " + token}});
    if (!r.ok() || r->status != 200) return nlohmann::json();
    return nlohmann::json::parse(r->body, nullptr, false);
  };
  bool polled = waitFor(
      [&] {
        auto systems = get("/api/v1/systems?limit=100");
        if (!systems.is_object() || systems["total"] != 13) return false;
        for (const auto& s : systems["items"]) {
          if (s["status"] == "unknown" || s["last_seen"].is_null()) return false;
        }
        return true;
      },
      std::chrono::seconds(30));
  ASSERT_TRUE(polled) << process.output();
  EXPECT_NE(process.output().find("sign in as admin with password demo-test-password"),
            std::string::npos)
      << process.output();
  auto total = [&](const std::string& target) {
    auto j = get(target);
    return j.is_object() ? j.value("total", 0) : 0;
  };
  ASSERT_TRUE(waitFor([&] { return total("/api/v1/events") > 0; }, std::chrono::seconds(30))) << process.output();
  ASSERT_TRUE(waitFor([&] { return total("/api/v1/calls") > 0; }, std::chrono::seconds(30))) << process.output();
  process.signal(SIGTERM);
  auto code = process.wait(std::chrono::seconds(20));
  ASSERT_TRUE(code.has_value()) << process.output();
  EXPECT_EQ(*code, 0) << process.output();
}

}  // namespace
}  // namespace atrium::testing
