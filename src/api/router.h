// Matches a method and a path against route patterns like /api/v1/systems/{id}. The pattern, not
// the raw path, is what metrics and logs name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace atrium::api {

struct RouteMatch {
  int id = -1;                       // the route's id; -1 when nothing matched
  std::string pattern;               // the matched path pattern (also set for 405)
  std::vector<std::string> params;   // the {placeholders}' values in order
  std::vector<std::string> allowed;  // when the path matched but not the method: what would
  bool found() const { return id >= 0; }
  bool methodNotAllowed() const { return id < 0 && !allowed.empty(); }
};

class Router {
 public:
  // `pattern` segments in braces match any one non-empty segment.
  void add(std::string method, std::string pattern, int id);
  RouteMatch match(std::string_view method, std::string_view path) const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    int id;
  };
  std::vector<Route> routes_;
};

}  // namespace atrium::api
