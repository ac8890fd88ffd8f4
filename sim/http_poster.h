// Posts that simulated systems make on their own: HttpFeedback documents (Cisco endpoints) and
// eventNotification calls (Cisco bridges). Asynchronous on the fleet's io_context, from the
// system's own address, one connection per post, with a timeout.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "common/result.h"

namespace atrium::sim {

struct PostTarget {
  std::string host;
  std::uint16_t port = 80;
  std::string target = "/";
};

// "http://host[:port][/path]"; IPv6 hosts in brackets. https is refused (the simulator has no TLS).
Result<PostTarget> parseHttpUrl(const std::string& url);

// Called with the HTTP status of the answer, or an error when there was none.
using PostCallback = std::function<void(Result<unsigned>)>;

class HttpPoster {
 public:
  // Posts `body` to `url` from `source_address` (an IP literal; empty: any) and calls `done`
  // on the io_context's thread.
  static void post(boost::asio::io_context& ioc, const std::string& source_address,
                   const std::string& url, std::string body, std::string content_type,
                   std::chrono::milliseconds timeout, PostCallback done);
};

}  // namespace atrium::sim
