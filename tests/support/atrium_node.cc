#include "support/atrium_node.h"

#include <fmt/format.h>

namespace atrium::testing {

AtriumNode::AtriumNode(std::filesystem::path dir, Options options)
    : dir_(std::move(dir)), options_(std::move(options)), port_(freePort()), snmp_port_(freeUdpPort()) {
  std::filesystem::create_directories(dir_);
  std::string url = options_.database_url.empty() ? "sqlite:" + (dataDir() / "atrium.db").string()
                                                  : options_.database_url;
  std::string text = fmt::format(
      "[node]\nname = \"{}\"\ndata_dir = \"{}\"\n\n[database]\nurl = \"{}\"\nconnect_timeout_ms = 1000\n{}\n"
      "[api]\nlisten = \"127.0.0.1:{}\"\n{}\n[snmp]\nlisten = \"127.0.0.1:{}\"\n\n[polling]\n{}\n"
      "[log]\nlevel = \"debug\"\n{}",
      options_.name, dataDir().string(), url, options_.database_section_extra, port_,
      options_.api_section_extra, snmp_port_, options_.polling_section, options_.extra_config);
  writeFile(configPath(), text);
}

AtriumNode::~AtriumNode() {
  if (process_ && process_->running()) process_->kill();
}

RunResult AtriumNode::run(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv = {ATRIUM_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return runProgram(argv, timeout);
}

RunResult AtriumNode::init(const std::string& installation_name) const {
  return run({"init", "--config", configPath().string(), "--name", installation_name});
}

Status AtriumNode::start(std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = options_.command_prefix;
  for (std::string arg : {std::string(ATRIUM_BINARY), std::string("serve"), std::string("--config"),
                          configPath().string()}) {
    argv.push_back(std::move(arg));
  }
  auto child = ChildProcess::spawn(argv, dir_ / "serve.log", options_.env);
  if (!child) return child.error();
  process_ = std::move(*child);
  bool up = waitFor(
      [&] {
        if (!process_->running()) return true;
        auto r = http("GET", "/healthz");
        return r.ok() && r->status == 200;
      },
      timeout);
  if (!process_->running()) {
    return Error::internal(fmt::format("atrium serve exited with code {}:\n{}",
                                       process_->wait(std::chrono::milliseconds(0)).value_or(-1), log()));
  }
  if (!up) return Error::internal(fmt::format("atrium serve did not answer /healthz in time:\n{}", log()));
  return okStatus();
}

bool AtriumNode::waitReady(std::chrono::milliseconds timeout) {
  return waitFor(
      [&] {
        auto r = http("GET", "/readyz");
        return r.ok() && r->status == 200;
      },
      timeout);
}

std::optional<int> AtriumNode::stop(int sig, std::chrono::milliseconds timeout) {
  if (!process_) return std::nullopt;
  process_->signal(sig);
  return process_->wait(timeout);
}

std::string AtriumNode::log() const { return readFile(dir_ / "serve.log"); }

Result<net::HttpResponse> AtriumNode::http(std::string_view method, std::string_view target,
                                           std::string_view body, const net::Headers& headers) const {
  net::HttpClient client;
  if (!options_.tls_trusted_pem.empty()) {
    net::HttpClientOptions tls;
    tls.timeout = std::chrono::seconds(10);
    tls.tls = true;
    tls.verify_tls = true;
    tls.trusted_pem = options_.tls_trusted_pem;
    return client.request(method, "127.0.0.1", port_, target, body, headers, tls);
  }
  return client.request(method, "127.0.0.1", port_, target, body, headers, std::chrono::seconds(10));
}

nlohmann::json AtriumNode::json(const net::HttpResponse& response) {
  if (response.body.empty()) return nullptr;
  auto j = nlohmann::json::parse(response.body, nullptr, false);
  return j.is_discarded() ? nlohmann::json(nullptr) : j;
}

}  // namespace atrium::testing
