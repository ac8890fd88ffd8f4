#include "devices/device_time.h"

#include <cctype>
#include <chrono>

namespace atrium::devices {
namespace {

// Reads exactly `digits` decimal digits at `pos`.
bool readNumber(std::string_view s, std::size_t& pos, int digits, int& out) {
  if (pos + static_cast<std::size_t>(digits) > s.size()) return false;
  int value = 0;
  for (int i = 0; i < digits; ++i) {
    char c = s[pos + static_cast<std::size_t>(i)];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += static_cast<std::size_t>(digits);
  out = value;
  return true;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

}  // namespace

std::optional<TimePoint> parseDeviceTime(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!readNumber(text, pos, 4, year)) return std::nullopt;
  bool dashes = expect(text, pos, '-');
  if (!readNumber(text, pos, 2, month)) return std::nullopt;
  if (dashes && !expect(text, pos, '-')) return std::nullopt;
  if (!readNumber(text, pos, 2, day)) return std::nullopt;
  if (!expect(text, pos, 'T') && !expect(text, pos, ' ')) return std::nullopt;
  if (!readNumber(text, pos, 2, hour) || !expect(text, pos, ':') ||
      !readNumber(text, pos, 2, minute) || !expect(text, pos, ':') ||
      !readNumber(text, pos, 2, second)) {
    return std::nullopt;
  }
  std::chrono::milliseconds fraction{0};
  if (expect(text, pos, '.')) {
    int scale = 100;
    int ms = 0;
    std::size_t start = pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (scale > 0) ms += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
    fraction = std::chrono::milliseconds(ms);
  }
  std::chrono::minutes offset{0};
  if (pos < text.size()) {
    char sign = text[pos];
    if (sign == 'Z' || sign == 'z') {
      ++pos;
    } else if (sign == '+' || sign == '-') {
      ++pos;
      int oh = 0, om = 0;
      if (!readNumber(text, pos, 2, oh)) return std::nullopt;
      expect(text, pos, ':');
      if (!readNumber(text, pos, 2, om)) return std::nullopt;
      if (oh > 23 || om > 59) return std::nullopt;
      offset = std::chrono::minutes(oh * 60 + om);
      if (sign == '-') offset = -offset;
    } else {
      return std::nullopt;
    }
  }
  if (pos != text.size()) return std::nullopt;
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::chrono::year_month_day date{std::chrono::year(year),
                                   std::chrono::month(static_cast<unsigned>(month)),
                                   std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return std::nullopt;
  auto t = std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
           std::chrono::seconds(second) + fraction - offset;
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(t);
}

}  // namespace atrium::devices
