// atrium-sim: a fleet of simulated systems on loopback, with a small JSON control API.
#include <csignal>
#include <fstream>
#include <iostream>
#include <regex>

#include <CLI/CLI.hpp>
#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "net/http_server.h"
#include "sim/fleet.h"
#include "sim/manifest.h"

namespace {

using atrium::sim::Fleet;
using nlohmann::json;
namespace http = boost::beast::http;

volatile std::sig_atomic_t g_stop = 0;

void onSignal(int) { g_stop = 1; }

unsigned statusOf(atrium::ErrorCode code) {
  switch (code) {
    case atrium::ErrorCode::kNotFound: return 404;
    case atrium::ErrorCode::kInvalidArgument: return 400;
    case atrium::ErrorCode::kUnavailable: return 503;
    default: return 500;
  }
}

// POST /systems/{i}/{action} and GET /systems.
class ControlHandler final : public atrium::net::HttpHandler {
 public:
  explicit ControlHandler(Fleet& fleet) : fleet_(fleet) {}

  void handle(atrium::net::Request request, const atrium::net::RequestInfo&,
              atrium::net::Respond respond) override {
    auto answer = [&](unsigned status, const json& body) {
      atrium::net::Response response{static_cast<http::status>(status), request.version()};
      response.set(http::field::content_type, "application/json");
      response.keep_alive(request.keep_alive());
      response.body() = body.dump();
      response.prepare_payload();
      respond(std::move(response));
    };
    auto fail = [&](const atrium::Error& e) {
      answer(statusOf(e.code), json{{"error", {{"code", atrium::errorCodeName(e.code)}, {"message", e.message}}}});
    };
    const std::string target(request.target());
    if (request.method() == http::verb::get && target == "/systems") {
      answer(200, atrium::sim::manifestJson(fleet_.systems()));
      return;
    }
    static const std::regex kAction(R"(^/systems/(\d+)/([a-z]+)$)");
    std::smatch m;
    if (!std::regex_match(target, m, kAction)) {
      fail(atrium::Error::notFound("no such resource: " + target.substr(0, 80)));
      return;
    }
    const int index = std::stoi(m[1].str().substr(0, 9));
    const std::string action = m[2];
    if (request.method() == http::verb::get && action == "status") {
      auto s = fleet_.status(index);
      if (!s.ok()) return fail(s.error());
      json calls = json::array();
      for (const auto& c : s->calls) {
        calls.push_back({{"call_id", c.call_id}, {"remote_number", c.remote_number},
                         {"state", atrium::devices::callStateName(c.state)},
                         {"direction", atrium::devices::callDirectionName(c.direction)},
                         {"duration_s", c.duration.count()}});
      }
      answer(200, json{{"name", s->identity.system_name}, {"calls", calls},
                       {"uptime_s", s->uptime ? s->uptime->count() : 0}});
      return;
    }
    if (request.method() != http::verb::post) {
      fail(atrium::Error{atrium::ErrorCode::kMethodNotAllowed, "use POST", {}});
      return;
    }
    const json body = request.body().empty() ? json::object() : json::parse(request.body(), nullptr, false);
    if (!body.is_object()) return fail(atrium::Error::invalid("the body must be a JSON object"));
    atrium::Status done = atrium::okStatus();
    if (action == "dial") {
      done = fleet_.dial(index, body.value("number", ""));
    } else if (action == "incoming") {
      done = fleet_.incomingCall(index, body.value("from", ""));
    } else if (action == "hangup") {
      done = fleet_.hangUp(index);
    } else if (action == "reboot") {
      done = fleet_.reboot(index);
    } else if (action == "trap") {
      done = fleet_.sendTrap(index, body.value("oid", ""));
    } else if (action == "fault") {
      auto fault = atrium::sim::parseFault(body.value("fault", "none"));
      if (!fault.ok()) return fail(fault.error());
      const long delay = body.value("delay_ms", 0L);
      done = fleet_.setFault(index, *fault, std::chrono::milliseconds(delay));
    } else {
      return fail(atrium::Error::notFound("no such action: " + action));
    }
    if (!done.ok()) return fail(done.error());
    answer(200, json{{"ok", true}});
  }

 private:
  Fleet& fleet_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"atrium-sim: simulated video-conferencing systems on loopback"};
  atrium::sim::FleetOptions o;
  std::string manifest;
  std::string control;
  std::string log_level = "info";
  std::string log_format = "text";
  app.add_option("--cisco-xapi", o.cisco_xapi, "Cisco endpoints (xAPI over HTTP)");
  app.add_option("--cisco-mcu", o.cisco_mcu, "Cisco MCU / TelePresence Server bridges (XML-RPC)");
  app.add_option("--polycom", o.polycom, "Polycom Group Series systems (REST)");
  app.add_option("--snmp", o.snmp, "SNMP-only systems");
  app.add_option("--base-address", o.base_address, "address of the first system; the others follow");
  app.add_option("--http-port", o.http_port, "HTTP port of every system");
  app.add_option("--snmp-port", o.snmp_port, "SNMP agent port of every system");
  app.add_option("--trap-target", o.trap_target, "host:port to send SNMP traps to");
  app.add_option("--trap-community", o.trap_community, "community of the traps");
  app.add_option("--snmp-community", o.snmp_community, "community the agents answer");
  app.add_option("--username", o.username, "user name the systems accept");
  app.add_option("--password", o.password, "password the systems accept");
  app.add_option("--name-prefix", o.name_prefix, "prefix of the system names");
  app.add_option("--seed", o.seed, "seed for models, serial numbers and MAC addresses");
  app.add_option("--manifest", manifest, "write the fleet as JSON to this file");
  app.add_option("--control", control, "host:port of the JSON control API (none if empty)");
  app.add_option("--log-level", log_level, "debug, info, warn or error");
  app.add_option("--log-format", log_format, "text or json");
  CLI11_PARSE(app, argc, argv);

  atrium::log::Level level = atrium::log::Level::kInfo;
  atrium::log::Format format = atrium::log::Format::kText;
  if (!atrium::log::parseLevel(log_level, level) || !atrium::log::parseFormat(log_format, format)) {
    std::cerr << "atrium-sim: unknown --log-level or --log-format\n";
    return 2;
  }
  atrium::log::init(format, level);

  // Signals are blocked in every thread the fleet starts and waited for here.
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  auto fleet = Fleet::start(o);
  if (!fleet.ok()) {
    atrium::log::error("sim.start_failed", {{"error", fleet.error().message}});
    return 1;
  }
  if (!manifest.empty()) {
    std::ofstream out(manifest + ".tmp");
    out << atrium::sim::manifestJson((*fleet)->systems()).dump(2) << "\n";
    out.close();
    if (!out || std::rename((manifest + ".tmp").c_str(), manifest.c_str()) != 0) {
      atrium::log::error("sim.manifest_failed", {{"path", manifest}});
      return 1;
    }
    atrium::log::info("sim.manifest_written", {{"path", manifest}, {"systems", (*fleet)->systems().size()}});
  }
  std::unique_ptr<ControlHandler> handler;
  std::unique_ptr<atrium::net::HttpServer> server;
  if (!control.empty()) {
    const auto colon = control.rfind(':');
    atrium::net::HttpServerOptions options;
    options.host = control.substr(0, colon);
    options.port = colon == std::string::npos ? 0 : static_cast<std::uint16_t>(std::stoi(control.substr(colon + 1)));
    options.threads = 1;
    options.server_name = "atrium-sim";
    handler = std::make_unique<ControlHandler>(**fleet);
    server = std::make_unique<atrium::net::HttpServer>(options, *handler);
    auto port = server->start();
    if (!port.ok()) {
      atrium::log::error("sim.control_failed", {{"error", port.error().message}});
      return 1;
    }
    atrium::log::info("sim.control_listening", {{"address", server->address()}});
  }
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  atrium::log::info("sim.stopping", {});
  if (server) server->stop();
  (*fleet)->stop();
  return 0;
}
