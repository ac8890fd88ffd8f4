// THE driver contract: every family's driver against the simulator (sim::Fleet, in-process, on
// loopback addresses of its own). Poll identity, settings, feedback registration, calls,
// conferences, and the error policy (wrong credentials, unreachable, malformed) as faults the
// simulator injects.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

#include "devices/driver.h"
#include "sim/fleet.h"

namespace atrium::devices {
namespace {

using namespace std::chrono_literals;

class DriverContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    sim::FleetOptions options;
    options.cisco_xapi = 1;
    options.cisco_mcu = 1;
    options.polycom = 1;
    options.snmp = 1;
    // An address block of this process's own, so test binaries can run side by side.
    options.base_address = "127.31." + std::to_string(::getpid() % 250) + ".1";
    options.connect_delay = 50ms;
    auto fleet = sim::Fleet::start(options);
    ASSERT_TRUE(fleet.ok()) << fleet.error().message;
    fleet_ = std::move(*fleet).release();
    registry_ = builtinDrivers().release();
  }

  static void TearDownTestSuite() {
    if (fleet_) fleet_->stop();
    delete fleet_;
    fleet_ = nullptr;
    delete registry_;
    registry_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(fleet_, nullptr);
    driver_ = registry_->find(GetParam());
    ASSERT_NE(driver_, nullptr);
    for (const sim::SimulatedSystem& s : fleet_->systems()) {
      if (s.family == GetParam()) system_ = &s;
    }
    ASSERT_NE(system_, nullptr);
  }

  void TearDown() override {
    if (system_) (void)fleet_->setFault(system_->index, sim::Fault::kNone);
  }

  bool isSnmp() const { return GetParam() == "snmp"; }

  DriverTarget target() const {
    DriverTarget t;
    t.system_id = system_->name;
    t.address = system_->address;
    t.port = isSnmp() ? system_->snmp_port : system_->http_port;
    t.username = system_->username;
    t.password = system_->password;
    t.snmp_community = system_->snmp_community;
    t.timeout = 2000ms;
    return t;
  }

  // Waits up to 3 s for `condition` on the simulator's status.
  bool eventually(const std::function<bool(const DeviceStatus&)>& condition) {
    auto deadline = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto status = fleet_->status(system_->index);
      if (status.ok() && condition(*status)) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  static sim::Fleet* fleet_;
  static DriverRegistry* registry_;
  Driver* driver_ = nullptr;
  const sim::SimulatedSystem* system_ = nullptr;
};

sim::Fleet* DriverContractTest::fleet_ = nullptr;
DriverRegistry* DriverContractTest::registry_ = nullptr;

TEST_P(DriverContractTest, PollReportsTheSystemsIdentity) {
  auto status = driver_->poll(target());
  ASSERT_TRUE(status.ok()) << status.error().message;
  const SystemIdentity& id = status->identity;
  EXPECT_EQ(id.software_version, system_->software_version);
  if (isSnmp()) {
    EXPECT_NE(id.product.find(system_->model), std::string::npos) << id.product;
    EXPECT_EQ(id.system_name, system_->name);
  } else {
    EXPECT_EQ(id.product, system_->model);
    EXPECT_EQ(id.serial_number, system_->serial_number);
  }
}

TEST_P(DriverContractTest, AppliedSettingsReachTheSystem) {
  PersistentSettings wanted;
  wanted.system_name = "Contract-" + GetParam();
  wanted.h323_id = "contract@example.com";
  wanted.e164_alias = "7001";
  wanted.sip_uri = "contract@example.com";
  Status applied = driver_->applySettings(target(), wanted);
  if (!driver_->capabilities().has(Capability::kConfigurationPush)) {
    ASSERT_FALSE(applied.ok());
    EXPECT_EQ(applied.error().code, ErrorCode::kInvalidArgument);
    return;
  }
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  auto settings = fleet_->settings(system_->index);
  ASSERT_TRUE(settings.ok()) << settings.error().message;
  EXPECT_EQ(settings->system_name, wanted.system_name);
  EXPECT_EQ(settings->h323_id, wanted.h323_id);
  EXPECT_EQ(settings->e164_alias, wanted.e164_alias);
  EXPECT_EQ(settings->sip_uri, wanted.sip_uri);
}

TEST_P(DriverContractTest, FeedbackRegistrationShowsOnTheSystem) {
  const std::string url = "http://127.0.0.1:9/feedback/contract-secret";
  Status registered =
      driver_->registerFeedback(target(), {3, url, {"/Event/CallSuccessful", "/Status/Call"}});
  if (!driver_->capabilities().has(Capability::kHttpFeedback)) {
    ASSERT_FALSE(registered.ok());
    return;
  }
  ASSERT_TRUE(registered.ok()) << registered.error().message;
  bool found = false;
  // The simulator's status() lists xAPI slots; its bridges' receivers are read back below with
  // feedbackReceiver.query, from the bridge itself.
  if (GetParam() != "cisco-mcu") {
    auto status = fleet_->status(system_->index);
    ASSERT_TRUE(status.ok());
    for (const FeedbackSlot& slot : status->feedback_slots) found = found || slot.url == url;
    EXPECT_TRUE(found);
  }
  // The driver reads the registration back too.
  auto polled = driver_->poll(target());
  ASSERT_TRUE(polled.ok()) << polled.error().message;
  found = false;
  for (const FeedbackSlot& slot : polled->feedback_slots) found = found || slot.url == url;
  EXPECT_TRUE(found);
}

TEST_P(DriverContractTest, DialThenDisconnect) {
  if (!driver_->capabilities().has(Capability::kDialOut)) {
    auto dialled = driver_->dial(target(), {"far@example.com", "SIP", 0});
    ASSERT_FALSE(dialled.ok());
    EXPECT_EQ(dialled.error().code, ErrorCode::kInvalidArgument);
    return;
  }
  auto call_id = driver_->dial(target(), {"far@example.com", "SIP", 1024});
  ASSERT_TRUE(call_id.ok()) << call_id.error().message;
  EXPECT_FALSE(call_id->empty());
  EXPECT_TRUE(eventually([](const DeviceStatus& s) { return !s.calls.empty(); }));
  auto polled = driver_->poll(target());
  ASSERT_TRUE(polled.ok()) << polled.error().message;
  ASSERT_FALSE(polled->calls.empty());
  EXPECT_EQ(polled->calls[0].remote_number.find("far@example.com") != std::string::npos, true)
      << polled->calls[0].remote_number;

  ASSERT_TRUE(driver_->disconnect(target(), *call_id).ok());
  EXPECT_TRUE(eventually([](const DeviceStatus& s) { return s.calls.empty(); }));

  // Disconnect without an id ends every call.
  ASSERT_TRUE(driver_->dial(target(), {"a@example.com", "", 0}).ok());
  ASSERT_TRUE(eventually([](const DeviceStatus& s) { return !s.calls.empty(); }));
  ASSERT_TRUE(driver_->disconnect(target(), "").ok());
  EXPECT_TRUE(eventually([](const DeviceStatus& s) { return s.calls.empty(); }));
}

TEST_P(DriverContractTest, ConferencesAreCreatedListedAndDestroyed) {
  if (!driver_->capabilities().has(Capability::kConferenceControl)) {
    auto listed = driver_->listConferences(target());
    ASSERT_FALSE(listed.ok());
    EXPECT_EQ(listed.error().code, ErrorCode::kInvalidArgument);
    return;
  }
  ASSERT_TRUE(driver_->createConference(target(), {"Contract Room", "81001", 0, true}).ok());
  auto listed = driver_->listConferences(target());
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  bool found = false;
  for (const ConferenceInfo& c : *listed) found = found || c.name == "Contract Room";
  EXPECT_TRUE(found);
  auto on_system = fleet_->conferences(system_->index);
  ASSERT_TRUE(on_system.ok());
  found = false;
  for (const ConferenceInfo& c : *on_system) found = found || c.name == "Contract Room";
  EXPECT_TRUE(found);

  auto duplicate = driver_->createConference(target(), {"Contract Room", "", 0, true});
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, ErrorCode::kConflict);

  ASSERT_TRUE(driver_->destroyConference(target(), "Contract Room").ok());
  auto after = fleet_->conferences(system_->index);
  ASSERT_TRUE(after.ok());
  for (const ConferenceInfo& c : *after) EXPECT_NE(c.name, "Contract Room");
  auto missing = driver_->destroyConference(target(), "Contract Room");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_P(DriverContractTest, WrongCredentialsAreUnauthorized) {
  ASSERT_TRUE(fleet_->setFault(system_->index, sim::Fault::kWrongCredentials).ok());
  DriverTarget t = target();
  t.timeout = 500ms;
  auto status = driver_->poll(t);
  ASSERT_FALSE(status.ok());
  // SNMP v2c cannot say "wrong community": the agent stays silent.
  EXPECT_EQ(status.error().code, isSnmp() ? ErrorCode::kUnavailable : ErrorCode::kUnauthorized)
      << status.error().message;
  EXPECT_EQ(status.error().message.find(system_->password), std::string::npos);
}

TEST_P(DriverContractTest, AnUnreachableSystemIsUnavailableWithinTheTimeout) {
  ASSERT_TRUE(fleet_->setFault(system_->index, sim::Fault::kUnreachable).ok());
  DriverTarget t = target();
  t.timeout = 500ms;
  auto t0 = std::chrono::steady_clock::now();
  auto status = driver_->poll(t);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable) << status.error().message;
  EXPECT_LT(took, 2s);
  EXPECT_NE(status.error().message.find(GetParam() + " system at " + system_->address),
            std::string::npos)
      << status.error().message;
}

TEST_P(DriverContractTest, AMalformedAnswerIsInternal) {
  ASSERT_TRUE(fleet_->setFault(system_->index, sim::Fault::kMalformed).ok());
  DriverTarget t = target();
  t.timeout = 500ms;
  auto status = driver_->poll(t);
  ASSERT_FALSE(status.ok());
  // net-snmp drops a packet it cannot decode: for SNMP a malformed answer is no answer.
  EXPECT_EQ(status.error().code, isSnmp() ? ErrorCode::kUnavailable : ErrorCode::kInternal)
      << status.error().message;
}

INSTANTIATE_TEST_SUITE_P(Families, DriverContractTest,
                         ::testing::Values("cisco-xapi", "cisco-mcu", "polycom", "snmp"),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string name;
                           for (char c : param.param) name += c == '-' ? '_' : c;
                           return name;
                         });

}  // namespace
}  // namespace atrium::devices
