#include "app/demo.h"

#include "common/ids.h"

#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "app/node.h"
#include "app/server_node.h"
#include "common/log.h"
#include "config/config.h"
#include "sim/fleet.h"

namespace atrium::app {
namespace {

void printError(const std::string& message) { std::fprintf(stderr, "atrium demo: %s\n", message.c_str()); }

// The demo's configuration file, written once into the data dir so the administrator can look at
// it, change it, and run `atrium serve --config` on the same data later.
std::string demoConfig(const DemoOptions& o, const std::filesystem::path& data_dir) {
  return fmt::format(R"(# Written by `atrium demo`. See docs/configuration.md for every key.
[node]
name = "demo"
data_dir = "{0}"

[database]
url = "sqlite:{0}/atrium.db"

[api]
listen = "{1}"

[snmp]
# Traps from the simulated systems; a port above 1023 needs no privileges.
listen = "127.0.0.1:0"

[polling]
interval_s = 15
# The simulated systems listen on these ports on their own loopback addresses.
http_port = {2}
snmp_port = {3}
timeout_ms = 3000
)",
                     data_dir.string(), o.listen, o.sim_http_port, o.sim_snmp_port);
}

// Makes the fleet look used: calls start and end, a system reboots now and then, a link flaps.
class Activity {
 public:
  Activity(sim::Fleet& fleet, std::uint32_t seed) : fleet_(fleet), rng_(seed) {}
  ~Activity() { stop(); }

  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    std::vector<int> callers;
    for (const auto& s : fleet_.systems()) {
      if (s.family == "cisco-xapi" || s.family == "polycom") callers.push_back(s.index);
    }
    if (callers.empty()) return;
    std::vector<bool> in_call(fleet_.systems().size(), false);
    int tick = 0;
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(2), [&] { return stopping_; })) {
      lock.unlock();
      ++tick;
      const int who = callers[std::uniform_int_distribution<std::size_t>(0, callers.size() - 1)(rng_)];
      const auto& s = fleet_.systems()[static_cast<std::size_t>(who)];
      Status done;
      if (in_call[static_cast<std::size_t>(who)]) {
        done = fleet_.hangUp(who);
        in_call[static_cast<std::size_t>(who)] = false;
      } else if (tick % 3 == 0) {
        done = fleet_.incomingCall(who, fmt::format("sip:visitor{}@partner.example.com", tick));
        in_call[static_cast<std::size_t>(who)] = true;
      } else {
        done = fleet_.dial(who, fmt::format("sip:meeting{}@video.example.com", tick % 7));
        in_call[static_cast<std::size_t>(who)] = true;
      }
      if (tick % 30 == 0) {
        const int reboot = callers[std::uniform_int_distribution<std::size_t>(0, callers.size() - 1)(rng_)];
        (void)fleet_.reboot(reboot);
        in_call[static_cast<std::size_t>(reboot)] = false;
      }
      if (tick % 11 == 0) (void)fleet_.sendTrap(who, tick % 22 == 0 ? "1.3.6.1.6.3.1.1.5.4" : "1.3.6.1.6.3.1.1.5.3");
      if (!done) log::debug("demo.activity_failed", {{"system", s.name}, {"reason", done.error().message}});
      lock.lock();
    }
  }

  sim::Fleet& fleet_;
  std::mt19937 rng_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

// Adds the simulated systems the inventory does not hold yet (by name).
Result<std::vector<std::string>> registerFleet(ServerNode& node, const sim::Fleet& fleet) {
  std::vector<std::string> ids;
  for (const auto& s : fleet.systems()) {
    store::SystemFilter filter;
    filter.name_contains = s.name;
    filter.limit = 10;
    auto existing = node.store().listSystems(filter);
    if (!existing) return existing.error();
    bool found = false;
    for (const auto& e : existing->items) {
      if (e.name == s.name) {
        ids.push_back(e.id);
        found = true;
      }
    }
    if (found) continue;
    store::System sys;
    sys.name = s.name;
    sys.family = s.family;
    sys.model = s.model;
    sys.addresses = {s.address};
    sys.username = s.username;
    sys.password = s.password;
    auto created = node.store().createSystem(sys, "demo");
    if (!created) return created.error();
    ids.push_back(created->id);
  }
  return ids;
}

}  // namespace

int runDemo(const DemoOptions& o, const Clock& clock) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::error_code ec;
  const auto data_dir = std::filesystem::absolute(o.data_dir).lexically_normal();
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    printError(fmt::format("cannot create {}: {}", data_dir.string(), ec.message()));
    return kExitRefused;
  }
  const auto config_path = data_dir / "atrium.toml";
  if (!std::filesystem::exists(config_path)) {
    std::ofstream(config_path) << demoConfig(o, data_dir);
  }
  auto cfg = config::loadFile(config_path);
  if (!cfg) {
    printError(cfg.error().message);
    return kExitRefused;
  }
  log::init(cfg->log.format, cfg->log.level);
  std::string admin_password = o.admin_password;
  const auto password_file = data_dir / "demo-admin-password";
  if (admin_password.empty()) {
    std::ifstream in(password_file);
    std::getline(in, admin_password);
  }
  if (admin_password.empty()) {
    admin_password = randomHex(8);
    std::ofstream(password_file) << admin_password << "\n";
    std::filesystem::permissions(password_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                 ec);
  }
  if (int rc = runInit(*cfg, "Atrium demo", clock, AdminAccount{"admin", admin_password}); rc != kExitOk) return rc;

  bool stop_requested = false;
  auto pause = [&](std::chrono::milliseconds d) {
    timespec ts{static_cast<time_t>(d.count() / 1000), static_cast<long>(d.count() % 1000) * 1000000};
    stop_requested = sigtimedwait(&stop_signals, nullptr, &ts) > 0;
    return stop_requested;
  };
  auto node = ServerNode::start(*cfg, clock, pause);
  if (!node) {
    if (stop_requested) return kExitOk;
    printError(node.error().message);
    return kExitRefused;
  }

  sim::FleetOptions fleet_options;
  fleet_options.cisco_xapi = o.endpoints * 6 / 10;
  fleet_options.polycom = o.endpoints / 4;
  fleet_options.snmp = std::max(0, o.endpoints - fleet_options.cisco_xapi - fleet_options.polycom);
  fleet_options.cisco_mcu = o.bridges;
  fleet_options.base_address = o.sim_base_address;
  fleet_options.http_port = cfg->polling.http_port != 0 ? cfg->polling.http_port : o.sim_http_port;
  fleet_options.snmp_port = cfg->polling.snmp_port != 0 ? cfg->polling.snmp_port : o.sim_snmp_port;
  if ((*node)->trapPort() != 0) fleet_options.trap_target = fmt::format("127.0.0.1:{}", (*node)->trapPort());
  fleet_options.name_prefix = "Demo";
  auto fleet = sim::Fleet::start(fleet_options);
  if (!fleet) {
    printError(fmt::format("cannot start the simulated fleet on {}: {}", o.sim_base_address, fleet.error().message));
    (*node)->stop();
    return kExitFailure;
  }
  auto ids = registerFleet(**node, **fleet);
  if (!ids) {
    printError(fmt::format("cannot register the simulated systems: {}", ids.error().message));
    (*fleet)->stop();
    (*node)->stop();
    return kExitFailure;
  }
  for (const auto& id : *ids) (*node)->pollSoon(id);
  Activity activity(**fleet, 42);
  if (o.activity) activity.start();

  std::printf(
      "Atrium demo is running: %zu simulated systems (%d Cisco endpoints, %d Polycom, %d SNMP, %d bridges) on "
      "%s and up, API on http://%s\n"
      "  sign in as admin with password %s\n"
      "  try: T=$(curl -s http://%s/api/v1/sessions -H 'Content-Type: application/json' \\\n"
      "         -d '{\"user\":\"admin\",\"password\":\"%s\"}' | sed 's/.*\"token\":\"\\([^\"]*\\)\".*/\\1/')\n"
      "       curl -H \"Authorization: Bearer $T\" http://%s/api/v1/systems\n"
      "Ctrl-C stops it; the data stays in %s.\n",
      (*fleet)->systems().size(), fleet_options.cisco_xapi, fleet_options.polycom, fleet_options.snmp,
      fleet_options.cisco_mcu, o.sim_base_address.c_str(), o.listen.c_str(), admin_password.c_str(),
      o.listen.c_str(), admin_password.c_str(), o.listen.c_str(), data_dir.string().c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log::info("demo.stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  activity.stop();
  (*node)->stop();
  (*fleet)->stop();
  return kExitOk;
}

}  // namespace atrium::app
