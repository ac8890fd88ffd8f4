#include "support/feedback_load.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/clock.h"
#include "devices/cisco_xapi/document_builder.h"
#include "store/device_store.h"
#include "store/store.h"

namespace atrium::testing {

FeedbackPoster::FeedbackPoster(std::string secret, std::function<const AtriumNode&(int)> pick,
                               std::string system_name)
    : secret_(std::move(secret)),
      post_([pick = std::move(pick)](int i, const std::string& target, const std::string& body,
                                     const net::Headers& headers) {
        return pick(i).http("POST", target, body, headers);
      }),
      system_name_(std::move(system_name)) {
  thread_ = std::thread([this] { run(); });
}

FeedbackPoster::FeedbackPoster(std::string secret, std::string host, std::uint16_t port, std::string system_name)
    : secret_(std::move(secret)),
      post_([host = std::move(host), port](int, const std::string& target, const std::string& body,
                                           const net::Headers& headers) {
        net::HttpClient client;
        return client.request("POST", host, port, target, body, headers, std::chrono::seconds(10));
      }),
      system_name_(std::move(system_name)) {
  thread_ = std::thread([this] { run(); });
}

FeedbackPoster::~FeedbackPoster() { stop(); }

void FeedbackPoster::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void FeedbackPoster::run() {
  devices::SystemIdentity identity;
  identity.system_name = system_name_;
  identity.serial_number = "FTT-" + system_name_;
  for (int i = 0; !stop_; ++i) {
    devices::CallInfo call;
    call.call_id = std::to_string(i);
    call.remote_number = fmt::format("sip:peer{}@example.com", i);
    auto r = post_(i, "/feedback/" + secret_, devices::cisco_xapi::buildCallSuccessfulFeedback(identity, call),
                   {{"Content-Type", "text/xml"}});
    std::lock_guard lock(mu_);
    if (r.ok() && r->status / 100 == 2) {
      acknowledged_.insert(i);
    } else {
      refusals_.push_back(r.ok() ? fmt::format("post {}: {}: {}", i, r->status, r->body)
                                 : fmt::format("post {}: {}", i, r.error().message));
    }
  }
}

std::size_t FeedbackPoster::acknowledgedCount() const {
  std::lock_guard lock(mu_);
  return acknowledged_.size();
}

std::set<int> FeedbackPoster::acknowledged() const {
  std::lock_guard lock(mu_);
  return acknowledged_;
}

std::vector<std::string> FeedbackPoster::refusals() const {
  std::lock_guard lock(mu_);
  return refusals_;
}

Result<FeedbackSystem> createFeedbackSystem(
    const AtriumNode& node, const std::function<Result<std::string>(const std::string&)>& sql) {
  auto created = node.http("POST", "/api/v1/systems",
                           R"({"name":"Room","family":"cisco-xapi","addresses":["127.0.0.1"]})",
                           {{"Content-Type", "application/json"}});
  if (!created.ok()) return created.error();
  if (created->status != 201) {
    return Error::internal(
        fmt::format("creating the system: {} {}", created->status, created->body));
  }
  FeedbackSystem system{.id = AtriumNode::json(*created)["id"].get<std::string>()};
  auto secret = sql("SELECT feedback_secret FROM systems WHERE id = '" + system.id + "'");
  if (!secret.ok()) return secret.error();
  system.secret = *secret;
  return system;
}

std::map<int, int> storedCallEvents(const AtriumNode& node, const std::string& system_id) {
  std::map<int, int> stored;
  std::int64_t since_id = 0;
  for (;;) {
    auto page = node.http("GET", fmt::format("/api/v1/events?system_id={}&since_id={}&limit=1000", system_id,
                                             since_id));
    if (!page.ok() || page->status != 200) {
      ADD_FAILURE() << "cannot read events: " << (page.ok() ? page->body : page.error().message);
      return stored;
    }
    const auto items = AtriumNode::json(*page)["items"];
    if (items.empty()) return stored;
    for (const auto& e : items) {
      since_id = e["id"].get<std::int64_t>();
      ++stored[std::stoi(e["payload"]["call"]["call_id"].get<std::string>())];
    }
  }
}

std::int64_t metricValue(const AtriumNode& node, const std::string& name) {
  auto m = node.http("GET", "/metrics");
  if (!m.ok()) return -1;
  auto at = m->body.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(m->body.substr(at + name.size() + 2));
}

SeededSystem seedSystem(const AtriumNode& node, const std::string& name,
                        const std::string& address) {
  SystemClock clock;
  auto db = store::Database::open("sqlite:" + (node.dataDir() / "atrium.db").string());
  EXPECT_TRUE(db.ok()) << db.error().message;
  store::Store st(**db, clock);
  store::System s;
  s.name = name;
  s.family = "cisco-xapi";
  s.addresses = {address};
  auto created = st.createSystem(s, "test");
  EXPECT_TRUE(created.ok()) << created.error().message;
  store::DeviceStore devices(**db, clock);
  auto managed = devices.managedSystem(created->id);
  EXPECT_TRUE(managed.ok());
  return {created->id, managed->feedback_secret};
}

}  // namespace atrium::testing
