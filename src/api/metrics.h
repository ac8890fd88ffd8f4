// The API's metrics in Prometheus text format 0.0.4, written by hand. Every metric is declared
// once, in kMetrics (metrics.cc); render() writes them in that order.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "ingest/trap_ingest.h"
#include "ingest/trap_receiver.h"
#include "store/database.h"

namespace atrium::api {

struct MetricDef {
  std::string_view name;
  std::string_view type;  // counter, gauge, histogram
  std::string_view help;
};

// The one list of declared metrics.
const std::vector<MetricDef>& declaredMetrics();

// Upper bounds (seconds) of the request duration histogram's buckets (+Inf implied).
inline constexpr std::array<double, 12> kDurationBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0};

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Escapes a label value: backslash, double quote and newline.
std::string escapeLabelValue(std::string_view value);

// The SNMP trap receiver's and trap ingest's metrics, declared here and written by
// renderTrapMetrics (the node appends them to /metrics).
const std::vector<MetricDef>& declaredTrapMetrics();
std::string renderTrapMetrics(const ingest::TrapReceiverStats& receiver,
                              const ingest::TrapIngestStats& ingest);

class Metrics {
 public:
  // Counts one answered request. `route` is the route pattern (or "unmatched").
  void observeRequest(std::string_view method, std::string_view route, unsigned status,
                      double seconds);

  // The whole exposition.
  std::string render(const store::PoolStats& pool, bool db_ready, std::string_view version) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kDurationBuckets.size()> buckets{};  // not cumulative
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, unsigned>, std::uint64_t> requests_;
  std::map<std::string, Histogram> durations_;
};

}  // namespace atrium::api
