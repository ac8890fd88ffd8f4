#include "app/node_identity.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "common/log.h"

namespace atrium::app {

std::filesystem::path membershipPath(const std::filesystem::path& data_dir) {
  return data_dir / "installation.json";
}

Result<std::optional<NodeMembership>> readMembership(const std::filesystem::path& data_dir) {
  const auto path = membershipPath(data_dir);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<NodeMembership>();
  std::ifstream in(path);
  if (!in) {
    return Error::internal(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  try {
    auto j = nlohmann::json::parse(buf.str());
    NodeMembership m;
    m.installation_id = j.at("installation_id").get<std::string>();
    m.installation_name = j.value("installation_name", "");
    m.joined_at = j.value("joined_at", "");
    m.node_id = j.value("node_id", "");
    return std::optional<NodeMembership>(m);
  } catch (const nlohmann::json::exception& e) {
    return Error::internal(fmt::format("{} is damaged ({}); it records which installation this node "
                                       "belongs to: restore it or remove it to join again",
                                       path.string(), e.what()));
  }
}

Status writeMembership(const std::filesystem::path& data_dir, const NodeMembership& membership) {
  const auto path = membershipPath(data_dir);
  const auto tmp = path.string() + ".tmp";
  nlohmann::json j = {{"installation_id", membership.installation_id},
                      {"installation_name", membership.installation_name},
                      {"joined_at", membership.joined_at}};
  if (!membership.node_id.empty()) j["node_id"] = membership.node_id;
  const std::string text = j.dump(2) + "\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error::internal(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Error::internal(fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
  }
  int dfd = ::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return okStatus();
}

Result<std::string> nodeIdFor(const std::filesystem::path& data_dir) {
  auto member = readMembership(data_dir);
  if (!member) return member.error();
  if (!member->has_value()) {
    return Error::internal(fmt::format("{} is missing: the node has not joined an installation yet",
                                       membershipPath(data_dir).string()));
  }
  NodeMembership m = **member;
  if (!m.node_id.empty()) return m.node_id;
  m.node_id = newUuid();
  ATRIUM_TRY(writeMembership(data_dir, m));
  log::info("node.id_created", {{"node_id", m.node_id}, {"file", membershipPath(data_dir).string()}});
  return m.node_id;
}

Result<store::Installation> checkMembership(store::Store& store, const config::Config& cfg, const Clock& clock) {
  auto inst = store.installation();
  if (!inst) {
    if (inst.error().code == ErrorCode::kNotFound) {
      return Error::invalid(fmt::format("the database {} holds no installation; run `atrium init --config {}` first",
                                        cfg.database.url.rfind("sqlite:", 0) == 0 ? cfg.database.url : "(configured)",
                                        cfg.source.string()));
    }
    return inst.error();
  }
  auto member = readMembership(cfg.node.data_dir);
  if (!member) return member.error();
  if (!member->has_value()) {
    ATRIUM_TRY(writeMembership(cfg.node.data_dir, {inst->id, inst->name, formatTimestamp(clock.now())}));
    log::info("node.joined", {{"installation_id", inst->id}, {"installation", inst->name}});
    return *inst;
  }
  const auto& m = **member;
  if (m.installation_id != inst->id) {
    return Error::conflict(fmt::format(
        "this node belongs to installation {} (\"{}\", recorded in {}), but the database holds installation "
        "{} (\"{}\"); one installation has one live database: point database.url at the right database, "
        "or use another node.data_dir",
        m.installation_id, m.installation_name, membershipPath(cfg.node.data_dir).string(), inst->id, inst->name));
  }
  return *inst;
}

}  // namespace atrium::app
