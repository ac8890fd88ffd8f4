// The built-in driver registry: four families with their capabilities.
#include <gtest/gtest.h>

#include "devices/driver.h"

namespace atrium::devices {
namespace {

TEST(DriverRegistryTest, HoldsTheFourBuiltInFamilies) {
  auto registry = builtinDrivers();
  EXPECT_EQ(registry->families(),
            (std::vector<std::string>{"cisco-mcu", "cisco-xapi", "polycom", "snmp"}));
  for (const std::string& family : registry->families()) {
    Driver* driver = registry->find(family);
    ASSERT_NE(driver, nullptr);
    EXPECT_EQ(driver->family(), family);
    EXPECT_TRUE(driver->capabilities().has(Capability::kPolling));
  }
  EXPECT_EQ(registry->find("nope"), nullptr);
  EXPECT_TRUE(registry->find("cisco-xapi")->capabilities().has(Capability::kHttpFeedback));
  EXPECT_TRUE(registry->find("cisco-mcu")->capabilities().has(Capability::kConferenceControl));
  EXPECT_TRUE(registry->find("polycom")->capabilities().has(Capability::kDialOut));
  EXPECT_FALSE(registry->find("snmp")->capabilities().has(Capability::kDialOut));
}

}  // namespace
}  // namespace atrium::devices
