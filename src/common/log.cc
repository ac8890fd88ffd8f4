#include "common/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>

#include "common/redact.h"

namespace atrium::log {
namespace {

std::atomic<Format> g_format{Format::kText};
std::once_flag g_default_once;

spdlog::level::level_enum toSpd(Level level) {
  switch (level) {
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

bool needsQuotes(std::string_view s) {
  if (s.empty()) return true;
  for (char c : s) {
    if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t') return true;
  }
  return false;
}

void ensureLogger() {
  std::call_once(g_default_once, [] {
    if (!spdlog::get("atrium")) init(Format::kText, Level::kInfo);
  });
}

}  // namespace

bool parseFormat(std::string_view name, Format& out) {
  if (name == "text") {
    out = Format::kText;
  } else if (name == "json") {
    out = Format::kJson;
  } else {
    return false;
  }
  return true;
}

bool parseLevel(std::string_view name, Level& out) {
  if (name == "debug") {
    out = Level::kDebug;
  } else if (name == "info") {
    out = Level::kInfo;
  } else if (name == "warn") {
    out = Level::kWarn;
  } else if (name == "error") {
    out = Level::kError;
  } else {
    return false;
  }
  return true;
}

void init(Format format, Level level) {
  g_format = format;
  auto logger = spdlog::get("atrium");
  if (!logger) {
    logger = std::make_shared<spdlog::logger>("atrium",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    spdlog::register_logger(logger);
  }
  if (format == Format::kJson) {
    logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(toSpd(level));
  logger->flush_on(spdlog::level::debug);
}

std::string formatEvent(Format format, std::string_view event, Fields fields) {
  std::string out;
  if (format == Format::kJson) {
    out += "\"event\":";
    out += nlohmann::json(std::string(event)).dump();
    for (const auto& [key, value] : fields) {
      out += ',';
      out += nlohmann::json(std::string(key)).dump();
      out += ':';
      out += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    return out;
  }
  out += event;
  for (const auto& [key, value] : fields) {
    out += ' ';
    out += key;
    out += '=';
    std::string text = value.is_string()
                           ? value.get<std::string>()
                           : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += needsQuotes(text) ? nlohmann::json(text).dump(-1, ' ', false,
                                                         nlohmann::json::error_handler_t::replace)
                             : text;
  }
  return out;
}

void write(Level level, std::string_view event, Fields fields) {
  ensureLogger();
  auto logger = spdlog::get("atrium");
  if (!logger->should_log(toSpd(level))) return;
  // No line carries a system's feedback secret, whatever a device or a caller put in a field.
  logger->log(toSpd(level), redactSecrets(formatEvent(g_format.load(), event, fields)));
}

}  // namespace atrium::log
