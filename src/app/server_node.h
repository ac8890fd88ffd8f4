// One running Atrium node: database, ingest (spool, event sink, trap receiver, feedback), the
// poller and the API server, started in order and stopped in reverse. `atrium serve` and
// `atrium demo` both run one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "common/clock.h"
#include "common/result.h"
#include "config/config.h"
#include "store/device_store.h"
#include "store/store.h"

namespace atrium::app {

class ServerNode {
 public:
  // Waits for `pause` (returns true when asked to stop while waiting) between attempts while the
  // database is unreachable at start-up; refuses at once what waiting cannot fix. A null result
  // with an OK status never happens: stop-while-waiting is Error kUnavailable "stopped".
  using Pause = std::function<bool(std::chrono::milliseconds)>;
  static Result<std::unique_ptr<ServerNode>> start(const config::Config& cfg, const Clock& clock,
                                                   const Pause& pause);
  ~ServerNode();
  ServerNode(const ServerNode&) = delete;
  ServerNode& operator=(const ServerNode&) = delete;

  std::uint16_t apiPort() const;
  std::uint16_t trapPort() const;  // 0 when traps are off
  // SIGHUP: the API's certificate and key are read again; a bad pair is refused and logged.
  Status reloadTls();
  store::Store& store();
  store::DeviceStore& deviceStore();
  // Polls a system at once (e.g. just added).
  void pollSoon(const std::string& system_id);
  // SIGTERM: releases this node's bucket leases and tells the other nodes (they take over at
  // once), then stops.
  void drain();
  void stop();

 private:
  struct Parts;
  explicit ServerNode(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace atrium::app
