// The poller against a scripted driver and a real SQLite store: every owned system is polled,
// what it sees is recorded, tickets rise and clear, feedback is registered, and a slow system
// does not hold up the others.
#include "services/poller.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "store/store.h"
#include "support/process.h"

namespace atrium::services {
namespace {

using namespace std::chrono_literals;

// A driver whose answer per address the test scripts.
class ScriptedDriver final : public devices::Driver {
 public:
  enum class Mode {
    kIdle,
    kInCall,
    kDead,
    kBadCredentials,
    kSlow,
    kSlotFailed,
    kThrows,
    kBadAlloc
  };

  std::string_view family() const override { return "cisco-xapi"; }
  devices::Capabilities capabilities() const override {
    return devices::Capability::kPolling | devices::Capability::kHttpFeedback;
  }

  Result<devices::DeviceStatus> poll(const devices::DriverTarget& target) override {
    Mode mode;
    std::vector<devices::FeedbackSlot> slots;
    {
      std::lock_guard lock(mu_);
      ++polls_[target.address];
      mode = modes_.count(target.address) ? modes_[target.address] : Mode::kIdle;
      slots = slots_[target.address];
    }
    switch (mode) {
      case Mode::kDead: return Error::unavailable("no answer from " + target.address);
      case Mode::kBadCredentials: return Error{ErrorCode::kUnauthorized, "401 from " + target.address, {}};
      case Mode::kSlow: std::this_thread::sleep_for(1500ms); break;
      case Mode::kThrows:
        throw std::out_of_range("stoll: a device sent a word, not a number");
      case Mode::kBadAlloc:
        throw std::bad_alloc();
      default: break;
    }
    devices::DeviceStatus s;
    s.identity.product = "Cisco TelePresence SX80";
    s.identity.software_version = "ce9.15.0";
    s.identity.serial_number = "SN-" + target.address;
    s.identity.ipv4_address = target.address;
    if (mode == Mode::kInCall) {
      devices::CallInfo c;
      c.call_id = "7";
      c.state = devices::CallState::kConnected;
      s.calls.push_back(c);
    }
    if (mode == Mode::kSlotFailed) {
      for (auto& slot : slots) slot.status = "Failed";
    }
    s.feedback_slots = slots;
    return s;
  }

  Status registerFeedback(const devices::DriverTarget& target, const devices::FeedbackRegistration& r) override {
    std::lock_guard lock(mu_);
    ++registrations_[target.address];
    slots_[target.address] = {devices::FeedbackSlot{r.slot, r.url, r.expressions, "XML", "OK"}};
    if (modes_[target.address] == Mode::kSlotFailed) modes_[target.address] = Mode::kIdle;
    return okStatus();
  }

  void setMode(const std::string& address, Mode mode) {
    std::lock_guard lock(mu_);
    modes_[address] = mode;
  }
  int polls(const std::string& address) {
    std::lock_guard lock(mu_);
    return polls_[address];
  }
  int registrations(const std::string& address) {
    std::lock_guard lock(mu_);
    return registrations_[address];
  }
  std::string slotUrl(const std::string& address) {
    std::lock_guard lock(mu_);
    return slots_[address].empty() ? "" : slots_[address].front().url;
  }

 private:
  std::mutex mu_;
  std::map<std::string, Mode> modes_;
  std::map<std::string, int> polls_;
  std::map<std::string, int> registrations_;
  std::map<std::string, std::vector<devices::FeedbackSlot>> slots_;
};

class PollerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::Database::open("sqlite:" + (tmp_.path() / "atrium.db").string());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
    store_ = std::make_unique<store::Store>(*db_, clock_);
    ASSERT_TRUE(store_->migrate().ok());
    ASSERT_TRUE(store_->createInstallation("test", "test").ok());
    devices_ = std::make_unique<store::DeviceStore>(*db_, clock_);
    store::ServerAddresses addresses;
    addresses.lan_ipv4 = "192.0.2.200";
    addresses.http_port = 8080;
    ASSERT_TRUE(devices_->setServerAddresses(addresses, "test").ok());
    auto driver = std::make_unique<ScriptedDriver>();
    driver_ = driver.get();
    drivers_.add(std::move(driver));
  }

  void TearDown() override {
    if (poller_) poller_->stop();
  }

  std::string addSystem(const std::string& name, const std::string& address) {
    store::System s;
    s.name = name;
    s.family = "cisco-xapi";
    s.addresses = {address};
    auto created = store_->createSystem(s, "test");
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created.ok() ? created->id : "";
  }

  void startPoller() {
    PollerOptions o;
    o.interval = 300ms;
    o.refresh = 200ms;
    o.workers = 4;
    o.timeout = 2s;
    o.seed = 7;
    poller_ = std::make_unique<Poller>(o, *devices_, drivers_, ownership_, clock_);
    poller_->start();
  }

  std::vector<store::Ticket> openTickets(const std::string& system_id) {
    store::TicketFilter f;
    f.system_id = system_id;
    auto page = devices_->tickets(f);
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->items : std::vector<store::Ticket>{};
  }

  bool hasTicket(const std::string& system_id, const std::string& kind) {
    for (const auto& t : openTickets(system_id)) {
      if (t.kind == kind) return true;
    }
    return false;
  }

  testing::TempDir tmp_;
  SystemClock clock_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::DeviceStore> devices_;
  devices::DriverRegistry drivers_;
  ScriptedDriver* driver_ = nullptr;
  OwnEverything ownership_;
  std::unique_ptr<Poller> poller_;
};

TEST_F(PollerTest, PollsEverySystemAndRecordsWhatItSees) {
  const auto idle = addSystem("Idle", "192.0.2.1");
  const auto busy = addSystem("Busy", "192.0.2.2");
  driver_->setMode("192.0.2.2", ScriptedDriver::Mode::kInCall);
  startPoller();
  ASSERT_TRUE(testing::waitFor([&] { return driver_->polls("192.0.2.1") >= 3 && driver_->polls("192.0.2.2") >= 3; },
                               10s));
  auto a = store_->system(idle);
  auto b = store_->system(busy);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->status, "idle");
  EXPECT_EQ(b->status, "in-call");
  EXPECT_TRUE(a->last_seen.has_value());
  EXPECT_EQ(a->software_version, "ce9.15.0");
}

TEST_F(PollerTest, TicketsRiseAndClear) {
  const auto dead = addSystem("Dead", "192.0.2.3");
  const auto locked = addSystem("Locked", "192.0.2.4");
  driver_->setMode("192.0.2.3", ScriptedDriver::Mode::kDead);
  driver_->setMode("192.0.2.4", ScriptedDriver::Mode::kBadCredentials);
  startPoller();
  ASSERT_TRUE(testing::waitFor([&] { return hasTicket(dead, store::kTicketNoResponse); }, 10s));
  ASSERT_TRUE(testing::waitFor([&] { return hasTicket(locked, store::kTicketAuthenticationFailed); }, 10s));
  EXPECT_EQ(store_->system(dead)->status, "unreachable");
  EXPECT_EQ(store_->system(locked)->status, "auth-failed");

  driver_->setMode("192.0.2.3", ScriptedDriver::Mode::kIdle);
  driver_->setMode("192.0.2.4", ScriptedDriver::Mode::kIdle);
  poller_->pollSoon(dead);
  poller_->pollSoon(locked);
  ASSERT_TRUE(testing::waitFor([&] { return !hasTicket(dead, store::kTicketNoResponse); }, 10s));
  ASSERT_TRUE(testing::waitFor([&] { return !hasTicket(locked, store::kTicketAuthenticationFailed); }, 10s));
}

TEST_F(PollerTest, ADriverThatThrowsIsThatSystemsPollFailureAndTheWorkersCarryOn) {
  const auto throws = addSystem("Throws", "192.0.2.5");
  const auto oom = addSystem("Out of memory", "192.0.2.6");
  const auto fine = addSystem("Fine", "192.0.2.7");
  driver_->setMode("192.0.2.5", ScriptedDriver::Mode::kThrows);
  driver_->setMode("192.0.2.6", ScriptedDriver::Mode::kBadAlloc);
  startPoller();
  // Each is polled again and again (the workers survived), and the healthy one keeps its polls.
  ASSERT_TRUE(testing::waitFor(
      [&] {
        return driver_->polls("192.0.2.5") >= 3 && driver_->polls("192.0.2.6") >= 3 &&
               driver_->polls("192.0.2.7") >= 3;
      },
      20s));
  ASSERT_TRUE(
      testing::waitFor([&] { return hasTicket(throws, store::kTicketUnreadableAnswer); }, 10s));
  ASSERT_TRUE(
      testing::waitFor([&] { return hasTicket(oom, store::kTicketUnreadableAnswer); }, 10s));
  auto t = store_->system(throws);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->status, "error");
  EXPECT_NE(t->last_poll_error.find("polling failed unexpectedly: stoll: a device sent a word"),
            std::string::npos)
      << t->last_poll_error;
  EXPECT_NE(store_->system(oom)->last_poll_error.find("std::bad_alloc"), std::string::npos)
      << store_->system(oom)->last_poll_error;
  EXPECT_EQ(store_->system(fine)->status, "idle");
  EXPECT_FALSE(hasTicket(fine, store::kTicketUnreadableAnswer));
  EXPECT_GE(poller_->stats().failures, 4u);

  driver_->setMode("192.0.2.5", ScriptedDriver::Mode::kIdle);
  poller_->pollSoon(throws);
  ASSERT_TRUE(
      testing::waitFor([&] { return !hasTicket(throws, store::kTicketUnreadableAnswer); }, 10s));
}

TEST_F(PollerTest, RegistersFeedbackWithTheSystemsSecretAndRepairsFailedSlots) {
  const auto id = addSystem("Codec", "192.0.2.5");
  startPoller();
  ASSERT_TRUE(testing::waitFor([&] { return driver_->registrations("192.0.2.5") >= 1; }, 10s));
  auto managed = devices_->managedSystem(id);
  ASSERT_TRUE(managed.ok());
  EXPECT_EQ(driver_->slotUrl("192.0.2.5"), "http://192.0.2.200:8080/feedback/" + managed->feedback_secret);
  // Registered and confirmed by the next poll: no more registrations while the slot is fine.
  const int polls = driver_->polls("192.0.2.5");
  ASSERT_TRUE(testing::waitFor([&] { return driver_->polls("192.0.2.5") >= polls + 2; }, 10s));
  EXPECT_EQ(driver_->registrations("192.0.2.5"), 1);

  driver_->setMode("192.0.2.5", ScriptedDriver::Mode::kSlotFailed);
  poller_->pollSoon(id);
  ASSERT_TRUE(testing::waitFor([&] { return driver_->registrations("192.0.2.5") >= 2; }, 10s));
  EXPECT_TRUE(hasTicket(id, store::kTicketFeedbackSlotFailed));
  ASSERT_TRUE(testing::waitFor([&] { return !hasTicket(id, store::kTicketFeedbackSlotFailed); }, 10s));
}

TEST_F(PollerTest, ASlowSystemDoesNotStallTheOthers) {
  addSystem("Slow", "192.0.2.6");
  addSystem("Quick", "192.0.2.7");
  driver_->setMode("192.0.2.6", ScriptedDriver::Mode::kSlow);
  startPoller();
  // While the slow system's polls take 1.5 s each, the quick one is polled on its own interval.
  ASSERT_TRUE(testing::waitFor([&] { return driver_->polls("192.0.2.7") >= 6; }, 10s));
  EXPECT_LE(driver_->polls("192.0.2.6"), driver_->polls("192.0.2.7"));
}

TEST_F(PollerTest, DuplicateAddressesRaiseATicketOnEach) {
  const auto a = addSystem("Twin A", "192.0.2.8");
  const auto b = addSystem("Twin B", "192.0.2.8");
  startPoller();
  ASSERT_TRUE(testing::waitFor([&] { return hasTicket(a, store::kTicketDuplicateAddress) && hasTicket(b, store::kTicketDuplicateAddress); }, 10s));
  ASSERT_TRUE(store_->deleteSystem(b, "test").ok());
  poller_->refreshSoon();
  ASSERT_TRUE(testing::waitFor([&] { return !hasTicket(a, store::kTicketDuplicateAddress); }, 10s));
}

TEST_F(PollerTest, UnexpectedSoftwareVersionRaisesATicketUntilTheSettingMatches) {
  const auto id = addSystem("Codec", "192.0.2.11");
  ASSERT_TRUE(devices_->setExpectedSoftwareVersions({{"Cisco TelePresence SX80", "ce9.14.2"},
                                                      {"Polycom Group 500", "6.2.2"}},
                                                     "test")
                  .ok());
  startPoller();
  ASSERT_TRUE(testing::waitFor([&] { return hasTicket(id, store::kTicketUnexpectedSoftware); }, 10s));
  for (const auto& t : openTickets(id)) {
    if (t.kind != store::kTicketUnexpectedSoftware) continue;
    EXPECT_EQ(t.severity, "warning");
    EXPECT_NE(t.message.find("ce9.14.2"), std::string::npos) << t.message;
    EXPECT_NE(t.message.find("ce9.15.0"), std::string::npos) << t.message;
  }
  // The administrator accepts what the fleet runs: the next refresh reads it, the next poll clears.
  ASSERT_TRUE(devices_->setExpectedSoftwareVersions({{"Cisco TelePresence SX80", "ce9.15.0"}}, "test").ok());
  poller_->refreshSoon();
  ASSERT_TRUE(testing::waitFor([&] { return !hasTicket(id, store::kTicketUnexpectedSoftware); }, 10s));
  // A model without an entry is not checked.
  ASSERT_TRUE(devices_->setExpectedSoftwareVersions({{"Polycom Group 500", "6.2.2"}}, "test").ok());
  poller_->refreshSoon();
  const int polls = driver_->polls("192.0.2.11");
  ASSERT_TRUE(testing::waitFor([&] { return driver_->polls("192.0.2.11") >= polls + 3; }, 10s));
  EXPECT_FALSE(hasTicket(id, store::kTicketUnexpectedSoftware));
}

TEST_F(PollerTest, SystemsBehindAFirewallAreNotPolled) {
  const auto id = addSystem("Remote", "192.0.2.9");
  store::SystemPatch patch;
  patch.connectivity = "behind-firewall";
  ASSERT_TRUE(store_->updateSystem(id, patch, "test").ok());
  addSystem("Local", "192.0.2.10");
  startPoller();
  ASSERT_TRUE(testing::waitFor([&] { return driver_->polls("192.0.2.10") >= 3; }, 10s));
  EXPECT_EQ(driver_->polls("192.0.2.9"), 0);
}

}  // namespace
}  // namespace atrium::services
