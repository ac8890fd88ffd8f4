// A system posting HTTP feedback to a node without pause, each post a distinct call (its call id
// is the post's number), recording which posts were acknowledged (2xx) and which were refused;
// and a reader of what the database holds, to check every acknowledged post is stored once.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/atrium_node.h"

namespace atrium::testing {

class FeedbackPoster {
 public:
  // Posts to /feedback/<secret> on `pick(i)`, the node chosen for post i (one node, or spread).
  FeedbackPoster(std::string secret, std::function<const AtriumNode&(int)> pick, std::string system_name = "Room");
  // Posts to http://host:port/feedback/<secret>: a load balancer, or any other plain target.
  FeedbackPoster(std::string secret, std::string host, std::uint16_t port, std::string system_name = "Room");
  FeedbackPoster(const FeedbackPoster&) = delete;
  FeedbackPoster& operator=(const FeedbackPoster&) = delete;
  ~FeedbackPoster();  // stops

  void stop();
  std::size_t acknowledgedCount() const;
  std::set<int> acknowledged() const;
  std::vector<std::string> refusals() const;

 private:
  void run();

  std::string secret_;
  // Sends post i (target, body, headers) where the constructor said.
  std::function<Result<net::HttpResponse>(int, const std::string&, const std::string&, const net::Headers&)> post_;
  std::string system_name_;
  mutable std::mutex mu_;
  std::set<int> acknowledged_;
  std::vector<std::string> refusals_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A system "Room" created through the node's API for a FeedbackPoster to post as, and its
// feedback secret, which the API never shows: `sql` runs one statement on the node's database and
// returns the first value.
struct FeedbackSystem {
  std::string id;
  std::string secret;
};
Result<FeedbackSystem> createFeedbackSystem(
    const AtriumNode& node, const std::function<Result<std::string>(const std::string&)>& sql);

// A cisco-xapi system written straight into a stopped node's SQLite database, and its feedback
// secret (which the API never shows). Fails the calling test when it cannot be made.
struct SeededSystem {
  std::string id;
  std::string secret;
};
SeededSystem seedSystem(const AtriumNode& node, const std::string& name,
                        const std::string& address);

// Call id (as posted by FeedbackPoster) -> how many events the node's API lists for the system.
// Fails the calling test (ADD_FAILURE) and returns what it read when a page cannot be read.
std::map<int, int> storedCallEvents(const AtriumNode& node, const std::string& system_id);

// A counter or gauge from the node's /metrics; -1 when it cannot be read.
std::int64_t metricValue(const AtriumNode& node, const std::string& name);

}  // namespace atrium::testing
