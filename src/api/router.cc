#include "api/router.h"

#include <algorithm>
#include <utility>

namespace atrium::api {

namespace {

std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  std::size_t start = 1;
  while (true) {
    std::size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string_view::npos ? path.npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

bool isPlaceholder(std::string_view s) {
  return s.size() >= 2 && s.front() == '{' && s.back() == '}';
}

}  // namespace

void Router::add(std::string method, std::string pattern, int id) {
  Route r{std::move(method), std::move(pattern), {}, id};
  for (auto seg : splitPath(r.pattern)) r.segments.emplace_back(seg);
  routes_.push_back(std::move(r));
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  // HEAD is GET without the body (the HTTP server leaves the body out).
  if (method == "HEAD") method = "GET";
  RouteMatch out;
  auto segments = splitPath(path);
  if (segments.empty()) return out;
  for (const auto& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    std::vector<std::string> params;
    bool ok = true;
    for (std::size_t i = 0; i < segments.size() && ok; ++i) {
      if (isPlaceholder(r.segments[i])) {
        if (segments[i].empty()) ok = false;
        params.emplace_back(segments[i]);
      } else if (r.segments[i] != segments[i]) {
        ok = false;
      }
    }
    if (!ok) continue;
    if (r.method == method) {
      out.id = r.id;
      out.pattern = r.pattern;
      out.params = std::move(params);
      out.allowed.clear();
      return out;
    }
    out.pattern = r.pattern;
    if (std::find(out.allowed.begin(), out.allowed.end(), r.method) == out.allowed.end()) {
      out.allowed.push_back(r.method);
      if (r.method == "GET") out.allowed.emplace_back("HEAD");
    }
  }
  return out;
}

}  // namespace atrium::api
