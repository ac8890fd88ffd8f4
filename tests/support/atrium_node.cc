#include "support/atrium_node.h"

#include <boost/beast/core/string.hpp>
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
  // CLI commands that talk to the API sign in with the administrator's token when the node runs.
  std::vector<std::string> env = {std::string("ATRIUM_ADMIN_PASSWORD=") + kAdminPassword,
                                  "XDG_CONFIG_HOME=" + (dir_ / "cli-config").string()};
  if (process_ && process_->running()) {
    if (auto token = adminToken()) env.push_back("ATRIUM_TOKEN=" + *token);
  }
  return runProgram(argv, timeout, env);
}

RunResult AtriumNode::init(const std::string& installation_name) const {
  return run({"init", "--config", configPath().string(), "--name", installation_name, "--admin-user", kAdminUser});
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

Result<net::HttpResponse> AtriumNode::anonymous(std::string_view method, std::string_view target,
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

Result<std::string> AtriumNode::signIn(const std::string& user, const std::string& password) const {
  auto r = anonymous("POST", "/api/v1/sessions", nlohmann::json{{"user", user}, {"password", password}}.dump(),
                     {{"Content-Type", "application/json"}});
  if (!r.ok()) return r.error();
  if (r->status != 201) return Error::internal(fmt::format("signing in as {}: {} {}", user, r->status, r->body));
  return json(*r)["token"].get<std::string>();
}

Result<std::string> AtriumNode::adminToken() const {
  {
    std::lock_guard lock(token_mu_);
    if (!admin_token_.empty()) return admin_token_;
  }
  auto token = signIn(kAdminUser, kAdminPassword);
  if (!token.ok()) return token.error();
  std::lock_guard lock(token_mu_);
  admin_token_ = *token;
  return *token;
}

Result<net::HttpResponse> AtriumNode::httpAs(const std::string& token, std::string_view method,
                                             std::string_view target, std::string_view body,
                                             net::Headers headers) const {
  headers.emplace_back("Authorization", "Bearer " + token);
  return anonymous(method, target, body, headers);
}

Result<net::HttpResponse> AtriumNode::http(std::string_view method, std::string_view target,
                                           std::string_view body, const net::Headers& headers) const {
  bool own_credentials = false;
  for (const auto& [name, value] : headers) {
    own_credentials = own_credentials || boost::beast::iequals(name, "authorization") ||
                      boost::beast::iequals(name, "cookie");
  }
  const bool api = target.rfind("/api/v1/", 0) == 0 && target.rfind("/api/v1/sessions", 0) != 0;
  const bool metrics = target.rfind("/metrics", 0) == 0;
  if (own_credentials || !(api || metrics)) return anonymous(method, target, body, headers);
  auto token = adminToken();
  if (!token.ok()) return anonymous(method, target, body, headers);  // not signed in: the answer says why
  auto r = httpAs(*token, method, target, body, headers);
  if (r.ok() && r->status == 401) {
    // The session ended (keys rotated, the database renewed): sign in again, once.
    {
      std::lock_guard lock(token_mu_);
      admin_token_.clear();
    }
    token = adminToken();
    if (token.ok()) r = httpAs(*token, method, target, body, headers);
  }
  return r;
}

Result<std::string> AtriumNode::addUser(const std::string& name, const std::vector<std::string>& permissions) const {
  const net::Headers kJsonType{{"Content-Type", "application/json"}};
  auto group = http("POST", "/api/v1/groups", nlohmann::json{{"name", name + " group"}, {"permissions", permissions}}.dump(),
                    kJsonType);
  if (!group.ok()) return group.error();
  if (group->status != 201) return Error::internal(fmt::format("creating a group: {} {}", group->status, group->body));
  auto user = http("POST", "/api/v1/users",
                   nlohmann::json{{"name", name}, {"password", kUserPassword}, {"groups", {json(*group)["id"]}}}.dump(),
                   kJsonType);
  if (!user.ok()) return user.error();
  if (user->status != 201) return Error::internal(fmt::format("creating a user: {} {}", user->status, user->body));
  return json(*user)["id"].get<std::string>();
}

nlohmann::json AtriumNode::json(const net::HttpResponse& response) {
  if (response.body.empty()) return nullptr;
  auto j = nlohmann::json::parse(response.body, nullptr, false);
  return j.is_discarded() ? nlohmann::json(nullptr) : j;
}

}  // namespace atrium::testing
