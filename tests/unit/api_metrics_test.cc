// The metrics exposition: Prometheus text format 0.0.4, every declared metric present.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "api/metrics.h"

namespace atrium::api {
namespace {

TEST(ApiMetricsTest, EveryDeclaredMetricHasHelpAndType) {
  Metrics m;
  store::PoolStats pool;
  pool.size = 4;
  pool.open = 2;
  pool.in_use = 1;
  pool.connect_failures = 3;
  pool.acquire_timeouts = 5;
  std::string text = m.render(pool, true, "0.1.0");
  std::set<std::string> names;
  for (const auto& def : declaredMetrics()) {
    EXPECT_TRUE(names.insert(std::string(def.name)).second) << "declared twice: " << def.name;
    EXPECT_NE(text.find("# HELP " + std::string(def.name) + " "), std::string::npos) << def.name;
    EXPECT_NE(text.find("# TYPE " + std::string(def.name) + " " + std::string(def.type) + "\n"),
              std::string::npos)
        << def.name;
  }
  for (const char* required :
       {"atrium_http_requests_total", "atrium_http_request_duration_seconds", "atrium_db_pool_size",
        "atrium_db_pool_open", "atrium_db_pool_in_use", "atrium_db_connect_failures_total",
        "atrium_db_acquire_timeouts_total", "atrium_db_ready", "atrium_build_info"}) {
    EXPECT_TRUE(names.count(required)) << required;
  }
  EXPECT_NE(text.find("\natrium_db_pool_size 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\natrium_db_pool_open 2\n"), std::string::npos);
  EXPECT_NE(text.find("\natrium_db_pool_in_use 1\n"), std::string::npos);
  EXPECT_NE(text.find("\natrium_db_connect_failures_total 3\n"), std::string::npos);
  EXPECT_NE(text.find("\natrium_db_acquire_timeouts_total 5\n"), std::string::npos);
  EXPECT_NE(text.find("\natrium_db_ready 1\n"), std::string::npos);
  EXPECT_NE(text.find("\natrium_build_info{version=\"0.1.0\"} 1\n"), std::string::npos);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_NE(m.render(pool, false, "x").find("\natrium_db_ready 0\n"), std::string::npos);
}

TEST(ApiMetricsTest, TrapMetricsAreDeclaredAndWritten) {
  ingest::TrapReceiverStats r;
  r.received = 5;
  r.accepted = 4;
  r.rejected_community = 1;
  r.rejected_v3 = 3;
  r.internal_errors = 2;
  ingest::TrapIngestStats i;
  i.unknown_stored = 7;
  i.unknown_limited = 11;
  i.cached_addresses = 9;
  const std::string text = "\n" + renderTrapMetrics(r, i);
  for (const auto& def : declaredTrapMetrics()) {
    EXPECT_NE(text.find("# TYPE " + std::string(def.name) + " " + std::string(def.type) + "\n"),
              std::string::npos)
        << def.name;
  }
  EXPECT_NE(text.find("\natrium_snmp_traps_rejected_v3_total 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\natrium_snmp_trap_internal_errors_total 2\n"), std::string::npos);
  EXPECT_NE(text.find("\natrium_snmp_traps_unknown_sender_limited_total 11\n"), std::string::npos);
  EXPECT_NE(text.find("\natrium_snmp_trap_address_cache_entries 9\n"), std::string::npos);
}

TEST(ApiMetricsTest, RequestsAndDurationsByRoute) {
  Metrics m;
  m.observeRequest("GET", "/api/v1/systems/{id}", 200, 0.003);
  m.observeRequest("GET", "/api/v1/systems/{id}", 200, 0.2);
  m.observeRequest("GET", "/api/v1/systems/{id}", 404, 20.0);
  m.observeRequest("POST", "/api/v1/systems", 201, 0.0001);
  std::string text = m.render({}, true, "v");
  EXPECT_NE(text.find("atrium_http_requests_total{method=\"GET\",route=\"/api/v1/systems/{id}\","
                      "status=\"200\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("atrium_http_requests_total{method=\"GET\",route=\"/api/v1/systems/{id}\","
                      "status=\"404\"} 1\n"),
            std::string::npos);
  const std::string h = "atrium_http_request_duration_seconds";
  const std::string r = "route=\"/api/v1/systems/{id}\"";
  EXPECT_NE(text.find(h + "_bucket{" + r + ",le=\"0.001\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find(h + "_bucket{" + r + ",le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find(h + "_bucket{" + r + ",le=\"0.25\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find(h + "_bucket{" + r + ",le=\"10\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find(h + "_bucket{" + r + ",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find(h + "_count{" + r + "} 3\n"), std::string::npos);
  EXPECT_NE(text.find(h + "_sum{" + r + "} 20.203\n"), std::string::npos) << text;
  EXPECT_NE(text.find(h + "_bucket{route=\"/api/v1/systems\",le=\"0.001\"} 1\n"),
            std::string::npos);

  // Every sample line is "name{labels} value" or "name value".
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("# ", 0) == 0) continue;
    auto space = line.rfind(' ');
    ASSERT_NE(space, std::string::npos) << line;
    EXPECT_EQ(line.rfind("atrium_", 0), 0u) << line;
  }
}

TEST(ApiMetricsTest, LabelValuesAreEscaped) {
  EXPECT_EQ(escapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace atrium::api
