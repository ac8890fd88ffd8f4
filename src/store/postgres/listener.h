// PostgreSQL LISTEN on a dedicated connection (not from the pool: a listening session must stay
// open): a thread waits on the connection's socket with poll(), hands every notification's
// payload to a callback, and reconnects with backoff when the connection is lost (a database
// failover loses notifications: callers also poll, this only makes them fast).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace atrium::store {

struct PgListenerOptions {
  std::string conninfo;  // the database URL or key=value string (multi-host allowed)
  std::string channel = "atrium";
  std::string application_name = "atrium-listener";
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds reconnect_min{250};
  std::chrono::milliseconds reconnect_max{5000};
  std::chrono::milliseconds poll_timeout{1000};  // how often an idle connection is checked
};

class PgListener {
 public:
  using OnNotify = std::function<void(const std::string& payload)>;
  // `on_connected` runs (on the listener thread) after each (re)connection and LISTEN: what was
  // sent while the listener was away is lost, so the caller catches up by polling.
  PgListener(PgListenerOptions options, OnNotify on_notify,
             std::function<void()> on_connected = {});
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;
  ~PgListener();

  void start();
  void stop();  // idempotent; wakes the thread at once
  bool connected() const { return connected_.load(); }

 private:
  void run();

  PgListenerOptions options_;
  OnNotify on_notify_;
  std::function<void()> on_connected_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> stopping_{false};
  int wake_fd_ = -1;  // eventfd: stop() wakes poll()
  std::mutex mu_;
  std::thread thread_;
};

// The statement that sends a notification on the channel (run on any connection):
// parameter $1 is the payload.
inline constexpr const char* kPgNotifySql = "SELECT pg_notify('atrium', $1)";

}  // namespace atrium::store
