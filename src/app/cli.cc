#include "app/cli.h"

#include <pwd.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/api_client.h"
#include "app/demo.h"
#include "app/key_commands.h"
#include "app/node.h"
#include "common/log.h"
#include "config/config.h"

#ifndef ATRIUM_VERSION
#define ATRIUM_VERSION "0.0.0"
#endif

namespace atrium::app {
namespace {

constexpr const char* kDefaultConfig = "/etc/atrium/atrium.toml";

std::string unixUser() {
  if (const passwd* pw = getpwuid(geteuid()); pw != nullptr) return pw->pw_name;
  return std::to_string(geteuid());
}

// A password from the environment variable `env`, else typed at the terminal without echo; never
// an argument, which `ps` would show.
Result<std::string> readSecret(const char* env, const std::string& prompt) {
  if (const char* v = std::getenv(env); v != nullptr && *v != '\0') return std::string(v);
  if (!isatty(STDIN_FILENO)) {
    return Error::invalid(fmt::format("no terminal to ask for the password: set {} in the environment", env));
  }
  std::fprintf(stderr, "%s", prompt.c_str());
  std::fflush(stderr);
  termios old{};
  const bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::fprintf(stderr, "\n");
  if (line.empty()) return Error::invalid("no password given");
  return line;
}

// Loads the configuration, or prints why not. For `init`, a missing file is written first.
std::optional<config::Config> loadConfig(const std::string& path) {
  auto cfg = config::loadFile(path);
  if (!cfg) {
    std::fprintf(stderr, "atrium: %s\n", cfg.error().message.c_str());
    return std::nullopt;
  }
  log::init(cfg->log.format, cfg->log.level);
  return *cfg;
}

// Where the CLI finds the API: --server, else the config's api.listen, else the default.
struct Target {
  std::string server;
  std::string config_path;
};

Result<ApiClient> clientFor(const Target& t) {
  if (!t.server.empty()) return ApiClient::fromAddress(t.server);
  std::error_code ec;
  if (!t.config_path.empty() && std::filesystem::exists(t.config_path, ec)) {
    auto cfg = config::loadFile(t.config_path);
    if (!cfg) return cfg.error();
    std::string host = cfg->api.listen.host;
    if (host == "0.0.0.0") host = "127.0.0.1";
    if (host == "::") host = "::1";
    return ApiClient(host, cfg->api.listen.port);
  }
  return ApiClient("127.0.0.1", 8080);
}

// A client signed in with the kept token (or ATRIUM_TOKEN).
Result<ApiClient> makeClient(const Target& t) {
  auto client = clientFor(t);
  if (!client) return client;
  if (auto token = ApiClient::tokenFor(client->serverKey())) client->setToken(*token);
  return client;
}

int fail(const Error& e) {
  std::fprintf(stderr, "atrium: %s\n", e.message.c_str());
  return e.code == ErrorCode::kUnavailable ? kExitFailure : kExitRefused;
}

std::string cell(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return "-";
  if (j[key].is_string()) return j[key].get<std::string>();
  if (j[key].is_array()) {
    std::string out;
    for (const auto& v : j[key]) out += (out.empty() ? "" : ",") + (v.is_string() ? v.get<std::string>() : v.dump());
    return out;
  }
  return j[key].dump();
}

void printTable(const nlohmann::json& items, const std::vector<std::pair<const char*, const char*>>& cols) {
  std::vector<std::size_t> widths;
  for (const auto& [title, key] : cols) widths.push_back(std::string_view(title).size());
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : items) {
    std::vector<std::string> row;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      row.push_back(cell(item, cols[i].second));
      widths[i] = std::max(widths[i], row.back().size());
    }
    rows.push_back(std::move(row));
  }
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (std::size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      if (i + 1 < r.size()) out += std::string(widths[i] - r[i].size() + 2, ' ');
    }
    std::puts(out.c_str());
  };
  std::vector<std::string> head;
  for (const auto& c : cols) head.emplace_back(c.first);
  line(head);
  for (const auto& r : rows) line(r);
}

// Resolves a system or folder given by id or by exact name.
Result<std::string> resolveId(ApiClient& client, const std::string& collection, const std::string& id_or_name) {
  auto by_id = client.call("GET", fmt::format("/api/v1/{}/{}", collection, ApiClient::escape(id_or_name)));
  if (by_id) return id_or_name;
  if (by_id.error().code != ErrorCode::kNotFound) return by_id.error();
  std::string target = collection == "systems"
                           ? fmt::format("/api/v1/systems?q={}&limit=1000", ApiClient::escape(id_or_name))
                           : std::string("/api/v1/folders");
  auto list = client.call("GET", target);
  if (!list) return list.error();
  const auto& items = list->is_array() ? *list : (*list)["items"];
  std::vector<std::string> matches;
  for (const auto& item : items) {
    if (item.value("name", "") == id_or_name) matches.push_back(item.value("id", ""));
  }
  if (matches.empty()) return Error::notFound(fmt::format("no {} has the id or name \"{}\"", collection.substr(0, collection.size() - 1), id_or_name));
  if (matches.size() > 1) {
    return Error::conflict(fmt::format("{} {} are named \"{}\"; give the id", matches.size(), collection, id_or_name));
  }
  return matches.front();
}

}  // namespace

int runCli(int argc, char** argv) {
  CLI::App app{"Atrium: a management server for video-conferencing systems", "atrium"};
  app.require_subcommand(1);
  app.set_version_flag("--version", ATRIUM_VERSION);

  std::string config_path = kDefaultConfig;
  int exit_code = kExitOk;
  SystemClock clock;

  // --- version
  auto* version = app.add_subcommand("version", "Print the version");
  version->callback([] { std::printf("atrium %s\n", ATRIUM_VERSION); });

  // --- init
  auto* init = app.add_subcommand("init", "Create the installation in the configured database (or join the one it "
                                           "holds) and record it in this node's data dir; writes a commented "
                                           "configuration file first if none exists");
  std::string installation_name = "Atrium";
  std::string init_data_dir;
  init->add_option("--config,-c", config_path, "Configuration file")->capture_default_str();
  init->add_option("--name", installation_name, "Name of a new installation")->capture_default_str();
  init->add_option("--data-dir", init_data_dir, "Data dir written into a new configuration file (default /var/lib/atrium)");
  std::string admin_user;
  init->add_option("--admin-user", admin_user,
                   "Create this local administrator (password from ATRIUM_ADMIN_PASSWORD, else asked for)");
  init->callback([&] {
    std::error_code ec;
    if (!std::filesystem::exists(config_path, ec)) {
      std::filesystem::path data_dir = init_data_dir.empty() ? "/var/lib/atrium" : std::filesystem::absolute(init_data_dir);
      std::filesystem::create_directories(std::filesystem::absolute(config_path).parent_path(), ec);
      FILE* f = std::fopen(config_path.c_str(), "wx");
      if (f == nullptr) {
        std::fprintf(stderr, "atrium: cannot write %s: %s\n", config_path.c_str(), std::strerror(errno));
        exit_code = kExitRefused;
        return;
      }
      char host[256] = "atrium";
      gethostname(host, sizeof(host) - 1);
      auto text = config::exampleConfig(data_dir, host);
      std::fwrite(text.data(), 1, text.size(), f);
      std::fclose(f);
      std::printf("wrote configuration file %s\n", config_path.c_str());
    }
    auto cfg = loadConfig(config_path);
    if (!cfg) {
      exit_code = kExitRefused;
      return;
    }
    std::optional<AdminAccount> admin;
    if (!admin_user.empty()) {
      auto password = readSecret("ATRIUM_ADMIN_PASSWORD", "Password for " + admin_user + ": ");
      if (!password) {
        exit_code = fail(password.error());
        return;
      }
      admin = AdminAccount{admin_user, *password};
    }
    exit_code = runInit(*cfg, installation_name, clock, admin);
  });

  // --- serve
  auto* serve = app.add_subcommand("serve", "Run the server until SIGINT or SIGTERM");
  serve->add_option("--config,-c", config_path, "Configuration file")->capture_default_str();
  serve->callback([&] {
    auto cfg = loadConfig(config_path);
    if (!cfg) {
      exit_code = kExitRefused;
      return;
    }
    // Test hook: a node whose clock is wrong on purpose, for the time-sync check.
    if (const char* offset = std::getenv("ATRIUM_TEST_CLOCK_OFFSET_MS"); offset != nullptr && *offset != '\0') {
      char* end = nullptr;
      const long long ms = std::strtoll(offset, &end, 10);
      if (end == nullptr || *end != '\0') {
        std::fprintf(stderr, "atrium: ATRIUM_TEST_CLOCK_OFFSET_MS must be a whole number of milliseconds, not \"%s\"\n",
                     offset);
        exit_code = kExitRefused;
        return;
      }
      OffsetClock offset_clock(clock, std::chrono::milliseconds(ms));
      log::warn("clock.test_offset", {{"offset_ms", ms},
                                      {"hint", "ATRIUM_TEST_CLOCK_OFFSET_MS is set: this node's clock is wrong on "
                                               "purpose (a test hook); unset it in production"}});
      exit_code = runServe(*cfg, offset_clock);
      return;
    }
    exit_code = runServe(*cfg, clock);
  });

  // --- demo
  auto* demo = app.add_subcommand("demo", "Run one server on SQLite with a simulated fleet (endpoints of every family "
                                           "and bridges) registered, polled and active; Ctrl-C stops it");
  DemoOptions demo_options;
  std::string demo_dir = demo_options.data_dir.string();
  demo->add_option("--data-dir", demo_dir, "Where the demo keeps its database and config")->capture_default_str();
  demo->add_option("--listen", demo_options.listen, "API address host:port (used when the data dir is new)")
      ->capture_default_str();
  demo->add_option("--admin-password", demo_options.admin_password,
                   "Password of the demo's administrator \"admin\" (default: made up and kept in the data dir)");
  demo->add_option("--endpoints", demo_options.endpoints, "Simulated endpoints")->capture_default_str()->check(CLI::Range(1, 5000));
  demo->add_option("--bridges", demo_options.bridges, "Simulated bridges")->capture_default_str()->check(CLI::Range(0, 100));
  demo->add_option("--sim-address", demo_options.sim_base_address, "First loopback address of the simulated systems")
      ->capture_default_str();
  demo->add_flag("!--no-activity", demo_options.activity, "Do not make calls or reboot systems");
  demo->callback([&] {
    demo_options.data_dir = demo_dir;
    exit_code = runDemo(demo_options, clock);
  });

  // --- db
  auto* db = app.add_subcommand("db", "Database schema");
  db->require_subcommand(1);
  auto* migrate = db->add_subcommand("migrate", "Apply the schema migrations this build has and the database lacks");
  migrate->add_option("--config,-c", config_path, "Configuration file")->capture_default_str();
  migrate->callback([&] {
    auto cfg = loadConfig(config_path);
    exit_code = cfg ? runMigrate(*cfg, clock) : kExitRefused;
  });

  // --- keys
  auto* keys = app.add_subcommand("keys", "The installation's validation key (signs the tokens every node accepts)");
  keys->require_subcommand(1);
  auto* rotate = keys->add_subcommand("rotate", "Make a new current validation key; the previous one stays valid for "
                                                "the grace period");
  int grace_hours = 24;
  std::string rotate_from_file;
  rotate->add_option("--config,-c", config_path, "Configuration file")->capture_default_str();
  rotate->add_option("--grace-hours", grace_hours, "Hours the previous key stays valid (0: refused at once)")
      ->capture_default_str()
      ->check(CLI::Range(0, 24 * 365));
  rotate->add_option("--from-file", rotate_from_file,
                     "Make the key in this file (64 hex digits) the current one instead of a random key");
  rotate->callback([&] {
    auto cfg = loadConfig(config_path);
    exit_code = cfg ? runKeysRotate(*cfg, std::chrono::hours(grace_hours), rotate_from_file, clock) : kExitRefused;
  });

  // --- systems and folders: clients of a running server's API
  Target target;
  auto add_target = [&](CLI::App* cmd) {
    cmd->add_option("--config,-c", target.config_path, "Configuration file whose api.listen names the server");
    cmd->add_option("--server,-s", target.server, "Server address host:port (default: from --config, else 127.0.0.1:8080)");
  };
  // Runs `body` against a client of the target server when `cmd` is chosen; a failure to reach the
  // server or one that `body` returns is printed and sets the exit status (see fail()).
  auto on_client = [&](CLI::App* cmd, std::function<Status(ApiClient&)> body) {
    cmd->callback([&, run = std::move(body)] {
      auto client = makeClient(target);
      if (!client) {
        exit_code = fail(client.error());
        return;
      }
      if (auto done = run(*client); !done) exit_code = fail(done.error());
    });
  };
  bool as_json = false;

  // --- signing in
  auto* login = app.add_subcommand("login", "Sign in to a running server and keep the token for this server "
                                             "in ~/.config/atrium/tokens.json (mode 0600)");
  add_target(login);
  std::string login_user = unixUser();
  login->add_option("--user,-u", login_user, "User name")->capture_default_str();
  login->callback([&] {
    auto client = clientFor(target);
    if (!client) {
      exit_code = fail(client.error());
      return;
    }
    auto password = readSecret("ATRIUM_PASSWORD", "Password for " + login_user + ": ");
    if (!password) {
      exit_code = fail(password.error());
      return;
    }
    auto session = client->call("POST", "/api/v1/sessions",
                                nlohmann::json{{"user", login_user}, {"password", *password}}.dump());
    if (!session) {
      exit_code = fail(session.error());
      return;
    }
    if (auto kept = ApiClient::keepToken(client->serverKey(), (*session)["token"].get<std::string>()); !kept) {
      exit_code = fail(kept.error());
      return;
    }
    std::printf("signed in to %s as %s until %s\n", client->serverKey().c_str(), login_user.c_str(),
                (*session)["expires_at"].get<std::string>().c_str());
  });
  auto* logout = app.add_subcommand("logout", "Sign out of a server and forget its token");
  add_target(logout);
  on_client(logout, [&](ApiClient& client) -> Status {
    auto done = client.call("DELETE", "/api/v1/sessions/current");
    ATRIUM_TRY(ApiClient::keepToken(client.serverKey(), ""));
    if (!done && done.error().code != ErrorCode::kUnauthorized) return done.error();
    std::printf("signed out of %s\n", client.serverKey().c_str());
    return okStatus();
  });

  // --- users
  auto* users = app.add_subcommand("users", "Manage the installation's users through a running server's API");
  users->require_subcommand(1);
  auto* u_list = users->add_subcommand("list", "List users");
  add_target(u_list);
  on_client(u_list, [&](ApiClient& client) -> Status {
    ATRIUM_ASSIGN_OR_RETURN(auto list, client.call("GET", "/api/v1/users"));
    for (const auto& u : list["items"]) {
      std::printf("%-24s %-10s %-9s %s\n", u["name"].get<std::string>().c_str(), u["source"].get<std::string>().c_str(),
                  u["enabled"].get<bool>() ? "enabled" : "disabled", u["id"].get<std::string>().c_str());
    }
    return okStatus();
  });
  auto* u_add = users->add_subcommand("add", "Add a local user (password from ATRIUM_USER_PASSWORD, else asked for)");
  add_target(u_add);
  std::string new_user, new_display, new_group;
  u_add->add_option("name", new_user, "User name")->required();
  u_add->add_option("--display-name", new_display, "Display name");
  u_add->add_option("--group", new_group, "Group id to add the user to");
  on_client(u_add, [&](ApiClient& client) -> Status {
    ATRIUM_ASSIGN_OR_RETURN(auto password, readSecret("ATRIUM_USER_PASSWORD", "Password for " + new_user + ": "));
    nlohmann::json body = {{"name", new_user}, {"password", password}, {"display_name", new_display}};
    if (!new_group.empty()) body["groups"] = {new_group};
    ATRIUM_ASSIGN_OR_RETURN(auto created, client.call("POST", "/api/v1/users", body.dump()));
    std::printf("added %s (%s)\n", new_user.c_str(), created["id"].get<std::string>().c_str());
    return okStatus();
  });
  // A user by name, through the list.
  auto userId = [](ApiClient& client, const std::string& name) -> Result<std::string> {
    ATRIUM_ASSIGN_OR_RETURN(auto list, client.call("GET", "/api/v1/users"));
    for (const auto& u : list["items"]) {
      if (u["name"] == name) return u["id"].get<std::string>();
    }
    return Error::notFound("no user named " + name);
  };
  auto* u_passwd = users->add_subcommand("passwd", "Set a local user's password (from ATRIUM_USER_PASSWORD, else asked for)");
  add_target(u_passwd);
  std::string passwd_user;
  u_passwd->add_option("name", passwd_user, "User name")->required();
  on_client(u_passwd, [&](ApiClient& client) -> Status {
    ATRIUM_ASSIGN_OR_RETURN(auto id, userId(client, passwd_user));
    ATRIUM_ASSIGN_OR_RETURN(auto password, readSecret("ATRIUM_USER_PASSWORD", "New password for " + passwd_user + ": "));
    ATRIUM_TRY(client.call("PUT", "/api/v1/users/" + id + "/password", nlohmann::json{{"password", password}}.dump()));
    std::printf("password of %s set\n", passwd_user.c_str());
    return okStatus();
  });
  auto* u_disable = users->add_subcommand("disable", "Disable a user (its sessions end on every node)");
  add_target(u_disable);
  std::string disable_user;
  u_disable->add_option("name", disable_user, "User name")->required();
  on_client(u_disable, [&](ApiClient& client) -> Status {
    ATRIUM_ASSIGN_OR_RETURN(auto id, userId(client, disable_user));
    ATRIUM_TRY(client.call("PATCH", "/api/v1/users/" + id, nlohmann::json{{"enabled", false}}.dump()));
    std::printf("%s disabled\n", disable_user.c_str());
    return okStatus();
  });

  auto* systems = app.add_subcommand("systems", "Manage the systems inventory through a running server's API");
  systems->require_subcommand(1);

  auto* sys_list = systems->add_subcommand("list", "List systems");
  add_target(sys_list);
  std::map<std::string, std::string> list_filters;
  std::string filter_family, filter_folder, filter_status, filter_q, sort = "name";
  int limit = 100, offset = 0;
  sys_list->add_option("--family", filter_family, "Only this family");
  sys_list->add_option("--folder", filter_folder, "Only systems in this folder (id)");
  sys_list->add_option("--status", filter_status, "Only this status");
  sys_list->add_option("--name", filter_q, "Name contains");
  sys_list->add_option("--sort", sort, "Sort key, - for descending (name, family, model, status, created_at, ...)")->capture_default_str();
  sys_list->add_option("--limit", limit, "Page size (1-1000)")->capture_default_str();
  sys_list->add_option("--offset", offset, "Rows to skip")->capture_default_str();
  sys_list->add_flag("--json", as_json, "Print the API's JSON");
  on_client(sys_list, [&](ApiClient& client) -> Status {
    std::string query = fmt::format("sort={}&limit={}&offset={}", ApiClient::escape(sort), limit, offset);
    if (!filter_family.empty()) query += "&family=" + ApiClient::escape(filter_family);
    if (!filter_folder.empty()) query += "&folder_id=" + ApiClient::escape(filter_folder);
    if (!filter_status.empty()) query += "&status=" + ApiClient::escape(filter_status);
    if (!filter_q.empty()) query += "&q=" + ApiClient::escape(filter_q);
    ATRIUM_ASSIGN_OR_RETURN(auto page, client.call("GET", "/api/v1/systems?" + query));
    if (as_json) {
      std::puts(page.dump(2).c_str());
      return okStatus();
    }
    printTable(page["items"], {{"ID", "id"},
                               {"NAME", "name"},
                               {"FAMILY", "family"},
                               {"MODEL", "model"},
                               {"ADDRESSES", "addresses"},
                               {"STATUS", "status"},
                               {"FOLDER", "folder_id"}});
    std::printf("%zu of %lld systems\n", page["items"].size(),
                static_cast<long long>(page["total"].get<std::int64_t>()));
    return okStatus();
  });

  auto* sys_add = systems->add_subcommand("add", "Add a system");
  add_target(sys_add);
  std::string s_name, s_family, s_model, s_folder, s_connectivity, s_serial, s_user, s_password, s_version;
  std::vector<std::string> s_addresses;
  sys_add->add_option("--name", s_name, "Name")->required();
  sys_add->add_option("--family", s_family, "cisco-xapi, cisco-mcu, polycom or snmp")->required();
  sys_add->add_option("--address", s_addresses, "Network address: IPv4, IPv6 or host name (repeat for several)")->required();
  sys_add->add_option("--model", s_model, "Model");
  sys_add->add_option("--folder", s_folder, "Folder (id or name)");
  sys_add->add_option("--connectivity", s_connectivity, "reachable-lan, reachable-public, behind-firewall or inaccessible");
  sys_add->add_option("--serial", s_serial, "Serial number");
  sys_add->add_option("--software-version", s_version, "Software version");
  sys_add->add_option("--username", s_user, "Management user name");
  sys_add->add_option("--password", s_password, "Management password (or set ATRIUM_SYSTEM_PASSWORD)")->envname("ATRIUM_SYSTEM_PASSWORD");
  sys_add->add_flag("--json", as_json, "Print the API's JSON");
  on_client(sys_add, [&](ApiClient& client) -> Status {
    nlohmann::json body = {{"name", s_name}, {"family", s_family}, {"addresses", s_addresses}};
    if (!s_model.empty()) body["model"] = s_model;
    if (!s_folder.empty()) {
      ATRIUM_ASSIGN_OR_RETURN(body["folder_id"], resolveId(client, "folders", s_folder));
    }
    if (!s_connectivity.empty()) body["connectivity"] = s_connectivity;
    if (!s_serial.empty()) body["serial_number"] = s_serial;
    if (!s_version.empty()) body["software_version"] = s_version;
    if (!s_user.empty() || !s_password.empty())
      body["credentials"] = {{"username", s_user}, {"password", s_password}};
    ATRIUM_ASSIGN_OR_RETURN(auto created, client.call("POST", "/api/v1/systems", body.dump()));
    if (as_json) {
      std::puts(created.dump(2).c_str());
    } else {
      std::printf("added system %s (%s)\n", created["id"].get<std::string>().c_str(),
                  s_name.c_str());
    }
    return okStatus();
  });

  auto* sys_remove = systems->add_subcommand("remove", "Remove a system");
  add_target(sys_remove);
  std::string remove_what;
  sys_remove->add_option("system", remove_what, "The system's id or exact name")->required();
  on_client(sys_remove, [&](ApiClient& client) -> Status {
    ATRIUM_ASSIGN_OR_RETURN(auto id, resolveId(client, "systems", remove_what));
    ATRIUM_TRY(client.call("DELETE", "/api/v1/systems/" + ApiClient::escape(id)));
    std::printf("removed system %s\n", id.c_str());
    return okStatus();
  });

  auto* sys_move = systems->add_subcommand("move", "Move a system to a folder");
  add_target(sys_move);
  std::string move_system, move_folder;
  sys_move->add_option("system", move_system, "The system's id or exact name")->required();
  sys_move->add_option("--folder", move_folder, "Folder id or name; omit to take it out of any folder");
  on_client(sys_move, [&](ApiClient& client) -> Status {
    ATRIUM_ASSIGN_OR_RETURN(auto id, resolveId(client, "systems", move_system));
    nlohmann::json body = {{"folder_id", nullptr}};
    if (!move_folder.empty()) {
      ATRIUM_ASSIGN_OR_RETURN(body["folder_id"], resolveId(client, "folders", move_folder));
    }
    ATRIUM_TRY(client.call("POST", fmt::format("/api/v1/systems/{}/move", ApiClient::escape(id)),
                           body.dump()));
    std::printf("moved system %s\n", id.c_str());
    return okStatus();
  });

  auto* folders = app.add_subcommand("folders", "Manage the folder tree through a running server's API");
  folders->require_subcommand(1);
  auto* f_list = folders->add_subcommand("list", "List folders");
  add_target(f_list);
  f_list->add_flag("--json", as_json, "Print the API's JSON");
  on_client(f_list, [&](ApiClient& client) -> Status {
    ATRIUM_ASSIGN_OR_RETURN(auto list, client.call("GET", "/api/v1/folders"));
    if (as_json) {
      std::puts(list.dump(2).c_str());
      return okStatus();
    }
    printTable(list.is_array() ? list : list["items"],
               {{"ID", "id"}, {"NAME", "name"}, {"PARENT", "parent_id"}});
    return okStatus();
  });
  auto* f_add = folders->add_subcommand("add", "Add a folder");
  add_target(f_add);
  std::string f_name, f_parent;
  f_add->add_option("--name", f_name, "Name")->required();
  f_add->add_option("--parent", f_parent, "Parent folder (id or name); omit for the top level");
  on_client(f_add, [&](ApiClient& client) -> Status {
    nlohmann::json body = {{"name", f_name}};
    if (!f_parent.empty()) {
      ATRIUM_ASSIGN_OR_RETURN(body["parent_id"], resolveId(client, "folders", f_parent));
    }
    ATRIUM_ASSIGN_OR_RETURN(auto created, client.call("POST", "/api/v1/folders", body.dump()));
    std::printf("added folder %s (%s)\n", created["id"].get<std::string>().c_str(), f_name.c_str());
    return okStatus();
  });
  auto* f_remove = folders->add_subcommand("remove", "Remove an empty folder");
  add_target(f_remove);
  std::string f_what;
  f_remove->add_option("folder", f_what, "The folder's id or exact name")->required();
  on_client(f_remove, [&](ApiClient& client) -> Status {
    ATRIUM_ASSIGN_OR_RETURN(auto id, resolveId(client, "folders", f_what));
    ATRIUM_TRY(client.call("DELETE", "/api/v1/folders/" + ApiClient::escape(id)));
    std::printf("removed folder %s\n", id.c_str());
    return okStatus();
  });

  // --- cluster: clients of a running server's API
  auto* cluster = app.add_subcommand("cluster", "The installation's nodes and its redundancy rules");
  cluster->require_subcommand(1);
  auto* check = cluster->add_subcommand("check", "Evaluate every redundancy rule now; exit status 1 when one fails");
  add_target(check);
  check->add_flag("--json", as_json, "Print the API's JSON");
  on_client(check, [&](ApiClient& client) -> Status {
    ATRIUM_ASSIGN_OR_RETURN(auto report, client.call("GET", "/api/v1/cluster/diagnostics"));
    if (as_json) {
      std::puts(report.dump(2).c_str());
      exit_code = report.value("ok", false) ? kExitOk : kExitFailure;
      return okStatus();
    }
    exit_code = printClusterCheck(report);
    return okStatus();
  });

  // --- cluster status, node promote|demote: clients of a running server's API
  auto* cluster_cmd = app.get_subcommand("cluster");
  auto* cluster_status = cluster_cmd->add_subcommand("status", "List the installation's nodes (GET /api/v1/cluster/nodes)");
  add_target(cluster_status);
  cluster_status->add_flag("--json", as_json, "Print the API's JSON");
  on_client(cluster_status, [&](ApiClient& client) -> Status {
    ATRIUM_ASSIGN_OR_RETURN(auto listed, client.call("GET", "/api/v1/cluster/nodes"));
    if (as_json) {
      std::puts(listed.dump(2).c_str());
      return okStatus();
    }
    nlohmann::json rows = nlohmann::json::array();
    std::size_t alive = 0;
    for (const auto& n : listed["nodes"]) {
      const bool is_alive = n.value("alive", false);
      if (is_alive) ++alive;
      const std::int64_t age_ms = n.value("age_ms", std::int64_t{0});
      std::string role = n.value("role", "");
      if (n.contains("requested_role") && n["requested_role"].is_string())
        role += " -> " + n["requested_role"].get<std::string>();
      rows.push_back({{"name", n.value("name", "")},
                      {"role", role},
                      {"state", n.value("state", "")},
                      {"alive", is_alive ? "yes" : "no"},
                      {"age", age_ms < 10000 ? fmt::format("{}ms", age_ms) : fmt::format("{}s", age_ms / 1000)},
                      {"buckets", std::to_string(n.contains("buckets") ? n["buckets"].size() : 0)},
                      {"rtt", fmt::format("{:.1f}/{:.1f}ms", n.value("rtt_p50_ms", 0.0), n.value("rtt_p99_ms", 0.0))},
                      {"offset", fmt::format("{}ms", n.value("clock_offset_ms", std::int64_t{0}))},
                      {"addresses", n.value("device_addresses", nlohmann::json::array())},
                      {"api", n.value("api_address", "")}});
    }
    printTable(rows, {{"NAME", "name"}, {"ROLE", "role"}, {"STATE", "state"}, {"ALIVE", "alive"}, {"AGE", "age"},
                      {"BUCKETS", "buckets"}, {"RTT P50/P99", "rtt"}, {"CLOCK OFFSET", "offset"},
                      {"DEVICE ADDRESSES", "addresses"}, {"API", "api"}});
    std::printf("%zu of %zu nodes alive; %d buckets; failover timeout %lld ms\n", alive,
                listed["nodes"].size(), listed.value("bucket_count", 0),
                static_cast<long long>(listed.value("failover_timeout_ms", std::int64_t{0})));
    return okStatus();
  });

  auto* node_cmd = app.add_subcommand("node", "Change a node's role (hot standby) through a running server's API");
  node_cmd->require_subcommand(1);
  std::string node_what;
  for (const char* verb : {"promote", "demote"}) {
    const bool promote = std::string_view(verb) == "promote";
    auto* cmd = node_cmd->add_subcommand(
        verb, promote ? "Make a standby node active (it takes buckets at its next heartbeat)"
                      : "Make an active node a standby (it gives its buckets up at its next heartbeat)");
    add_target(cmd);
    cmd->add_option("node", node_what, "The node's id or name")->required();
    on_client(cmd, [&, verb, promote](ApiClient& client) -> Status {
      ATRIUM_ASSIGN_OR_RETURN(auto done,
                              client.call("POST", fmt::format("/api/v1/cluster/nodes/{}/{}",
                                                              ApiClient::escape(node_what), verb)));
      const auto& n = done["node"];
      std::printf("node %s (%s) will be %s at its next heartbeat\n", n.value("name", "").c_str(),
                  n.value("id", "").c_str(), promote ? "active" : "a standby");
      return okStatus();
    });
  }

  // --- tasks: clients of a running server's API
  auto* tasks = app.add_subcommand("tasks", "Scheduled tasks (run by whichever active node claims them)");
  tasks->require_subcommand(1);
  auto* t_list = tasks->add_subcommand("list", "List tasks, newest first");
  add_target(t_list);
  std::string t_state;
  int t_limit = 50, t_offset = 0;
  t_list->add_option("--state", t_state, "Only tasks in this state (scheduled, running, succeeded, failed, cancelled)");
  t_list->add_option("--limit", t_limit, "Page size (1-1000)")->capture_default_str();
  t_list->add_option("--offset", t_offset, "Rows to skip")->capture_default_str();
  t_list->add_flag("--json", as_json, "Print the API's JSON");
  on_client(t_list, [&](ApiClient& client) -> Status {
    std::string query = fmt::format("limit={}&offset={}", t_limit, t_offset);
    if (!t_state.empty()) query += "&state=" + ApiClient::escape(t_state);
    ATRIUM_ASSIGN_OR_RETURN(auto page, client.call("GET", "/api/v1/tasks?" + query));
    if (as_json) {
      std::puts(page.dump(2).c_str());
      return okStatus();
    }
    printTable(page["items"], {{"ID", "id"},
                               {"NAME", "name"},
                               {"KIND", "kind"},
                               {"STATE", "state"},
                               {"NEXT RUN", "next_run_at"},
                               {"EVERY (S)", "interval_s"},
                               {"ATTEMPTS", "attempts"},
                               {"HOLDER", "holder"},
                               {"LAST ERROR", "last_error"}});
    std::printf("%zu of %lld tasks\n", page["items"].size(),
                static_cast<long long>(page["total"].get<std::int64_t>()));
    return okStatus();
  });

  auto* t_add = tasks->add_subcommand("add", "Schedule a task");
  add_target(t_add);
  std::string t_kind, t_name, t_payload, t_at, t_misfire;
  std::int64_t t_every = 0;
  int t_max_attempts = 0;
  bool t_idempotent = false;
  t_add->add_option("--kind", t_kind, "feedback-reregister, database-backup or wait")->required();
  t_add->add_option("--name", t_name, "Name shown to people (default: the kind)");
  t_add->add_option("--payload", t_payload, "The kind's parameters as a JSON object, e.g. '{\"seconds\":20}'");
  t_add->add_option("--at", t_at, "First run, RFC 3339 (default: now)");
  t_add->add_option("--every", t_every, "Run again every this many seconds (default: once)");
  t_add->add_flag("--idempotent", t_idempotent, "Re-run it when the node running it dies (default: fail it)");
  t_add->add_option("--misfire", t_misfire, "Recurring runs missed while no node ran them: run-once or skip");
  t_add->add_option("--max-attempts", t_max_attempts, "Runs an idempotent task is given (default 3)");
  t_add->add_flag("--json", as_json, "Print the API's JSON");
  on_client(t_add, [&](ApiClient& client) -> Status {
    nlohmann::json body = {{"kind", t_kind}};
    if (!t_name.empty()) body["name"] = t_name;
    if (!t_payload.empty()) {
      auto payload = nlohmann::json::parse(t_payload, nullptr, false);
      if (payload.is_discarded()) return Error::invalid("--payload is not JSON: " + t_payload);
      body["payload"] = payload;
    }
    if (!t_at.empty()) body["run_at"] = t_at;
    if (t_every > 0) body["interval_s"] = t_every;
    if (t_idempotent) body["idempotent"] = true;
    if (!t_misfire.empty()) body["misfire"] = t_misfire;
    if (t_max_attempts > 0) body["max_attempts"] = t_max_attempts;
    ATRIUM_ASSIGN_OR_RETURN(auto created, client.call("POST", "/api/v1/tasks", body.dump()));
    if (as_json) {
      std::puts(created.dump(2).c_str());
    } else {
      std::printf("scheduled task %s (%s) for %s\n", created["id"].get<std::string>().c_str(),
                  created["name"].get<std::string>().c_str(),
                  created["next_run_at"].get<std::string>().c_str());
    }
    return okStatus();
  });

  auto* t_show = tasks->add_subcommand("show", "Show a task and its runs (node, attempt, outcome)");
  add_target(t_show);
  std::string t_show_id;
  t_show->add_option("task", t_show_id, "The task's id")->required();
  t_show->add_flag("--json", as_json, "Print the API's JSON");
  on_client(t_show, [&](ApiClient& client) -> Status {
    ATRIUM_ASSIGN_OR_RETURN(auto task,
                            client.call("GET", "/api/v1/tasks/" + ApiClient::escape(t_show_id)));
    if (as_json) {
      std::puts(task.dump(2).c_str());
      return okStatus();
    }
    for (const char* key : {"id", "name", "kind", "state", "next_run_at", "interval_s", "idempotent", "misfire",
                            "attempts", "max_attempts", "holder", "last_error", "created_by", "created_at"}) {
      std::printf("%-13s %s\n", key, cell(task, key).c_str());
    }
    std::printf("%-13s %s\n", "payload", task["payload"].dump().c_str());
    std::puts("");
    printTable(task["runs"], {{"RUN", "id"},
                              {"NODE", "node_name"},
                              {"ATTEMPT", "attempt"},
                              {"STARTED", "started_at"},
                              {"FINISHED", "finished_at"},
                              {"OUTCOME", "outcome"},
                              {"MESSAGE", "message"}});
    return okStatus();
  });

  auto* t_cancel = tasks->add_subcommand(
      "cancel", "Cancel a task (a running one is stopped by its node within a heartbeat)");
  add_target(t_cancel);
  std::string t_cancel_id;
  t_cancel->add_option("task", t_cancel_id, "The task's id")->required();
  on_client(t_cancel, [&](ApiClient& client) -> Status {
    ATRIUM_ASSIGN_OR_RETURN(
        auto cancelled, client.call("DELETE", "/api/v1/tasks/" + ApiClient::escape(t_cancel_id)));
    const std::string state = cancelled.value("state", "");
    if (state == "running") {
      std::printf(
          "task %s is being cancelled: the node running it stops the run within a heartbeat\n",
          t_cancel_id.c_str());
    } else {
      std::printf("task %s is %s\n", t_cancel_id.c_str(), state.c_str());
    }
    return okStatus();
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}

}  // namespace atrium::app
