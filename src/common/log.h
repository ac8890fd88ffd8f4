// Logs are for the administrator: each line has a stable event name and structured fields.
// Text by default ("2026-11-25T19:11:22.123Z info http.listening address=127.0.0.1:8080"),
// one JSON object per line on request.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace atrium::log {

enum class Format { kText, kJson };
enum class Level { kDebug, kInfo, kWarn, kError };

// Parses "text"/"json" and "debug"/"info"/"warn"/"error"; false if the name is unknown.
bool parseFormat(std::string_view name, Format& out);
bool parseLevel(std::string_view name, Level& out);

// Sets up the process-wide logger (to stderr). Safe to call again to change format or level.
void init(Format format, Level level);

using Field = std::pair<std::string_view, nlohmann::json>;
using Fields = std::initializer_list<Field>;

void write(Level level, std::string_view event, Fields fields);

inline void debug(std::string_view event, Fields fields = {}) { write(Level::kDebug, event, fields); }
inline void info(std::string_view event, Fields fields = {}) { write(Level::kInfo, event, fields); }
inline void warn(std::string_view event, Fields fields = {}) { write(Level::kWarn, event, fields); }
inline void error(std::string_view event, Fields fields = {}) { write(Level::kError, event, fields); }

// Formats one event the way the current format writes it (without timestamp and level); exposed
// for tests.
std::string formatEvent(Format format, std::string_view event, Fields fields);

}  // namespace atrium::log
