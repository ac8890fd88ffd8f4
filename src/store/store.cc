#include "store/store.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/ids.h"
#include "common/log.h"
#include "store/catalogue.h"
#include "store/paging.h"
#include "store/system_credentials.h"
#include "store/system_rows.h"

namespace atrium::store {
namespace {

using nlohmann::json;

Value optText(const std::optional<std::string>& s) { return s ? Value(*s) : Value(nullptr); }
json optJson(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

// The sort keys a caller may choose; only these names ever reach the SQL text.
struct SortKey {
  std::string_view key;
  bool text;
};
constexpr std::array<SortKey, 7> kSortKeys{{{"name", true},
                                            {"family", true},
                                            {"model", true},
                                            {"status", true},
                                            {"software_version", true},
                                            {"created_at", false},
                                            {"updated_at", false}}};

// Credentials never appear in the audit log.
constexpr std::array<std::string_view, 2> kMaskedFields{"username", "password"};

json systemJson(const System& s) {
  return json{{"id", s.id},
              {"name", s.name},
              {"family", s.family},
              {"model", s.model},
              {"addresses", s.addresses},
              {"folder_id", optJson(s.folder_id)},
              {"connectivity", s.connectivity},
              {"serial_number", optJson(s.serial_number)},
              {"software_version", s.software_version},
              {"username", s.username},
              {"password", s.password},
              {"status", s.status},
              {"last_seen", s.last_seen ? json(formatTimestamp(*s.last_seen)) : json(nullptr)},
              {"created_at", formatTimestamp(s.created_at)},
              {"updated_at", formatTimestamp(s.updated_at)},
              {"h323_id", s.h323_id},
              {"e164_alias", s.e164_alias},
              {"sip_uri", s.sip_uri}};
}

json folderJson(const Folder& f) {
  return json{{"id", f.id},
              {"name", f.name},
              {"parent_id", optJson(f.parent_id)},
              {"created_at", formatTimestamp(f.created_at)},
              {"updated_at", formatTimestamp(f.updated_at)}};
}

json installationJson(const Installation& i) {
  return json{{"id", i.id},
              {"name", i.name},
              {"created_at", formatTimestamp(i.created_at)},
              {"epoch", i.epoch}};
}

json masked(json j) {
  for (std::string_view key : kMaskedFields) {
    auto it = j.find(key);
    if (it != j.end() && !it->is_null()) *it = "***";
  }
  return j;
}

// The fields that differ between two objects (updated_at aside): {old, new}; both empty if none.
std::pair<json, json> changedFields(const json& before, const json& after) {
  json old_part = json::object();
  json new_part = json::object();
  for (const auto& [key, value] : after.items()) {
    if (key == "updated_at") continue;
    if (before.value(key, json()) != value) {
      old_part[key] = before.value(key, json());
      new_part[key] = value;
    }
  }
  return {masked(std::move(old_part)), masked(std::move(new_part))};
}

std::string escapeLike(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

Folder folderFromRow(const Rows& r, std::size_t i) {
  Folder f;
  f.id = r.text(i, 0);
  f.name = r.text(i, 1);
  f.parent_id = r.optText(i, 2);
  f.created_at = fromMs(r.integer(i, 3));
  f.updated_at = fromMs(r.integer(i, 4));
  return f;
}

Status runIfAny(Connection& conn, std::string_view sql) {
  if (sql.empty()) return okStatus();
  auto r = conn.query(sql);
  if (!r.ok()) return r.error();
  return okStatus();
}

Result<int> readVersion(Connection& conn, const Catalogue& cat) {
  auto exists = countOf(conn, cat.schema_table_exists, {});
  if (!exists.ok()) return exists.error();
  if (*exists == 0) return 0;
  auto version = countOf(conn, cat.select_schema_version, {});
  if (!version.ok()) return version.error();
  return static_cast<int>(*version);
}

Result<Folder> loadFolder(Connection& conn, const Catalogue& cat, const std::string& id) {
  auto r = conn.query(cat.select_folder, Params{id});
  if (!r.ok()) return r.error();
  if (r->empty()) return Error::notFound(fmt::format("folder {} does not exist", id));
  return folderFromRow(*r, 0);
}

Result<System> loadSystem(Connection& conn, std::string_view sql, const std::string& id) {
  auto r = conn.query(sql, Params{id});
  if (!r.ok()) return r.error();
  if (r->empty()) return Error::notFound(fmt::format("system {} does not exist", id));
  return systemFromRow(*r, 0);
}

// invalid_argument naming `field` when the folder does not exist.
Status requireFolder(Connection& conn, const Catalogue& cat, const std::string& id,
                     const std::string& field) {
  auto f = loadFolder(conn, cat, id);
  if (f.ok()) return okStatus();
  if (f.error().code == ErrorCode::kNotFound) {
    return Error::invalid(fmt::format("folder {} does not exist", id), field);
  }
  return f.error();
}

}  // namespace

const Catalogue& catalogueFor(Dialect dialect) {
  return dialect == Dialect::kSqlite ? sqliteCatalogue() : postgresCatalogue();
}

int latestSchemaVersion() { return static_cast<int>(sqliteCatalogue().migrations.size()); }

Store::Store(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

// ---- schema ------------------------------------------------------------------------------

Result<int> Store::schemaVersion() {
  auto conn = db_.acquire();
  if (!conn.ok()) return conn.error();
  return readVersion(**conn, catalogueFor(db_.dialect()));
}

Result<int> Store::migrate() {
  const Catalogue& cat = catalogueFor(db_.dialect());
  const int latest = latestSchemaVersion();
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  for (;;) {
    Transaction tx(conn);
    ATRIUM_TRY(tx.begin());
    ATRIUM_TRY(runIfAny(conn, cat.migration_lock));
    auto version = readVersion(conn, cat);
    if (!version.ok()) return version.error();
    if (*version > latest) {
      return Error::conflict(
          fmt::format("schema version {} is newer than this build knows ({}); upgrade Atrium",
                      *version, latest));
    }
    if (*version == latest) {
      ATRIUM_TRY(tx.commit());
      return latest;
    }
    const int next = *version + 1;
    ATRIUM_TRY(conn.execScript(cat.migrations[static_cast<std::size_t>(next - 1)]));
    auto recorded =
        conn.query(cat.insert_schema_version, Params{std::int64_t{next}, toMs(clock_.now())});
    if (!recorded.ok()) return recorded.error();
    ATRIUM_TRY(tx.commit());
    log::info("store.migrated", {{"database", db_.displayUrl()}, {"version", next}});
  }
}

Status Store::checkSchema() {
  auto version = schemaVersion();
  if (!version.ok()) return version.error();
  const int latest = latestSchemaVersion();
  if (*version == latest) return okStatus();
  if (*version == 0) {
    return Error::conflict(
        fmt::format("the database {} has no Atrium schema; run `atrium init`", db_.displayUrl()));
  }
  if (*version < latest) {
    return Error::conflict(
        fmt::format("schema version {} is older than this build's {}; run `atrium db migrate`",
                    *version, latest));
  }
  return Error::conflict(fmt::format(
      "schema version {} is newer than this build knows ({}); upgrade Atrium", *version, latest));
}

// ---- installation ------------------------------------------------------------------------

Result<Installation> Store::createInstallation(const std::string& name, const std::string& actor) {
  const Catalogue& cat = catalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  ATRIUM_TRY(runIfAny(conn, cat.lock_installation));
  auto existing = conn.query(cat.select_installation);
  if (!existing.ok()) return existing.error();
  if (!existing->empty()) {
    return Error::conflict(fmt::format("the database already holds installation \"{}\" ({})",
                                       existing->text(0, 1), existing->text(0, 0)));
  }
  Installation inst;
  inst.id = newUuid();
  inst.name = name;
  inst.created_at = truncateMs(clock_.now());
  inst.epoch = 1;
  auto r = conn.query(cat.insert_installation,
                      Params{inst.id, inst.name, toMs(inst.created_at), inst.epoch});
  if (!r.ok()) return r.error();
  ATRIUM_TRY(writeAudit(conn, inst.created_at, actor, "create", "installation", inst.id, nullptr,
                        installationJson(inst)));
  ATRIUM_TRY(tx.commit());
  return inst;
}

Result<Installation> Store::installation() {
  const Catalogue& cat = catalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(cat.select_installation);
  if (!r.ok()) return r.error();
  if (r->empty())
    return Error::notFound("the database holds no installation yet; run `atrium init`");
  Installation inst;
  inst.id = r->text(0, 0);
  inst.name = r->text(0, 1);
  inst.created_at = fromMs(r->integer(0, 2));
  inst.epoch = r->integer(0, 3);
  return inst;
}

// ---- folders -----------------------------------------------------------------------------

Result<Folder> Store::createFolder(const std::string& name,
                                   const std::optional<std::string>& parent_id,
                                   const std::string& actor) {
  const Catalogue& cat = catalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  ATRIUM_TRY(runIfAny(conn, cat.lock_folder_tree));
  if (parent_id) ATRIUM_TRY(requireFolder(conn, cat, *parent_id, "parent_id"));
  Folder f;
  f.id = newUuid();
  f.name = name;
  f.parent_id = parent_id;
  f.created_at = f.updated_at = truncateMs(clock_.now());
  auto r = conn.query(cat.insert_folder, Params{f.id, f.name, optText(f.parent_id),
                                                toMs(f.created_at), toMs(f.updated_at)});
  if (!r.ok()) return r.error();
  ATRIUM_TRY(
      writeAudit(conn, f.created_at, actor, "create", "folder", f.id, nullptr, folderJson(f)));
  ATRIUM_TRY(tx.commit());
  return f;
}

Result<Folder> Store::folder(const std::string& id) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  return loadFolder(**pooled, catalogueFor(db_.dialect()), id);
}

Result<std::vector<Folder>> Store::folders() {
  const Catalogue& cat = catalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(cat.select_folders);
  if (!r.ok()) return r.error();
  std::vector<Folder> out;
  out.reserve(r->size());
  for (std::size_t i = 0; i < r->size(); ++i) out.push_back(folderFromRow(*r, i));
  return out;
}

Result<Folder> Store::updateFolder(const std::string& id, const FolderPatch& patch,
                                   const std::string& actor) {
  const Catalogue& cat = catalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  ATRIUM_TRY(runIfAny(conn, cat.lock_folder_tree));
  auto old = loadFolder(conn, cat, id);
  if (!old.ok()) return old.error();
  Folder next = *old;
  if (patch.name) next.name = *patch.name;
  if (patch.parent_id) next.parent_id = *patch.parent_id;
  const bool moved = next.parent_id != old->parent_id;
  if (moved && next.parent_id) {
    ATRIUM_TRY(requireFolder(conn, cat, *next.parent_id, "parent_id"));
    auto loops = countOf(conn, cat.folder_is_self_or_ancestor, Params{*next.parent_id, id});
    if (!loops.ok()) return loops.error();
    if (*loops > 0) {
      return Error::conflict(
          fmt::format("cannot move folder \"{}\" under itself or one of its subfolders", old->name),
          "parent_id");
    }
  }
  auto [old_part, new_part] = changedFields(folderJson(*old), folderJson(next));
  if (new_part.empty()) return *old;
  next.updated_at = truncateMs(clock_.now());
  auto r = conn.query(cat.update_folder,
                      Params{id, next.name, optText(next.parent_id), toMs(next.updated_at)});
  if (!r.ok()) return r.error();
  const bool renamed = next.name != old->name;
  ATRIUM_TRY(writeAudit(conn, next.updated_at, actor, moved && !renamed ? "move" : "update",
                        "folder", id, old_part, new_part));
  ATRIUM_TRY(tx.commit());
  return next;
}

Status Store::deleteFolder(const std::string& id, const std::string& actor) {
  const Catalogue& cat = catalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  ATRIUM_TRY(runIfAny(conn, cat.lock_folder_tree));
  auto old = loadFolder(conn, cat, id);
  if (!old.ok()) return old.error();
  auto folder_count = countOf(conn, cat.count_child_folders, Params{id});
  if (!folder_count.ok()) return folder_count.error();
  auto system_count = countOf(conn, cat.count_folder_systems, Params{id});
  if (!system_count.ok()) return system_count.error();
  if (*folder_count > 0 || *system_count > 0) {
    return Error::conflict(fmt::format(
        "folder \"{}\" is not empty: it holds {} folder(s) and {} system(s); move or delete them "
        "first",
        old->name, *folder_count, *system_count));
  }
  auto r = conn.query(cat.delete_folder, Params{id});
  if (!r.ok()) return r.error();
  ATRIUM_TRY(
      writeAudit(conn, clock_.now(), actor, "delete", "folder", id, folderJson(*old), nullptr));
  return tx.commit();
}

// ---- systems -----------------------------------------------------------------------------

Result<System> Store::createSystem(const System& system, const std::string& actor) {
  const Catalogue& cat = catalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  if (system.folder_id) ATRIUM_TRY(requireFolder(conn, cat, *system.folder_id, "folder_id"));
  System s = system;
  s.id = newUuid();
  s.created_at = s.updated_at = truncateMs(clock_.now());
  if (s.last_seen) s.last_seen = truncateMs(*s.last_seen);
  auto sealed = sealForStorage(conn, s.password);
  if (!sealed.ok()) return sealed.error();
  s.password = std::move(*sealed);
  auto r = conn.query(cat.insert_system, systemInsertParams(s, randomHex(16)));
  if (!r.ok()) return r.error();
  ATRIUM_TRY(writeAudit(conn, s.created_at, actor, "create", "system", s.id, nullptr,
                        masked(systemJson(s))));
  ATRIUM_TRY(tx.commit());
  return s;
}

Result<System> Store::system(const std::string& id) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  return loadSystem(**pooled, catalogueFor(db_.dialect()).select_system, id);
}

Result<Page<System>> Store::listSystems(const SystemFilter& filter) {
  const Catalogue& cat = catalogueFor(db_.dialect());
  const SortKey* sort = nullptr;
  for (const SortKey& k : kSortKeys) {
    if (k.key == filter.sort) sort = &k;
  }
  if (sort == nullptr) {
    return Error::invalid(fmt::format("cannot sort systems by \"{}\"", filter.sort), "sort");
  }
  ATRIUM_TRY(checkPaging(filter.limit, filter.offset));
  const std::string_view dir = filter.order == SortOrder::kAscending ? "ASC" : "DESC";
  std::string order_by;
  if (sort->text) {
    order_by = fmt::format("lower({0}){2} {1}, {0}{2} {1}, id {1}", sort->key, dir,
                           cat.bytewise_collation);
  } else {
    order_by = fmt::format("{0} {1}, id {1}", sort->key, dir);
  }
  std::string list_sql(cat.list_systems);
  list_sql.replace(list_sql.find("{order_by}"), std::string_view("{order_by}").size(), order_by);

  Params params{
      filter.family ? Value(*filter.family) : Value(nullptr),
      filter.folder_id ? Value(*filter.folder_id) : Value(nullptr),
      filter.unfiled,
      filter.status ? Value(*filter.status) : Value(nullptr),
      filter.connectivity ? Value(*filter.connectivity) : Value(nullptr),
      filter.name_contains ? Value("%" + escapeLike(*filter.name_contains) + "%") : Value(nullptr),
      filter.address ? Value(*filter.address) : Value(nullptr)};

  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  return pageOf<System>(**pooled, cat.count_systems, list_sql, std::move(params), filter.limit, filter.offset,
                        systemFromRow);
}

Result<System> Store::updateSystem(const std::string& id, const SystemPatch& patch,
                                   const std::string& actor, std::vector<std::string>* notices) {
  const Catalogue& cat = catalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  auto old = loadSystem(conn, cat.select_system_for_update, id);
  if (!old.ok()) return old.error();
  System next = *old;
  if (patch.name) next.name = *patch.name;
  if (patch.family) next.family = *patch.family;
  if (patch.model) next.model = *patch.model;
  if (patch.addresses) next.addresses = *patch.addresses;
  if (patch.folder_id) next.folder_id = *patch.folder_id;
  if (patch.connectivity) next.connectivity = *patch.connectivity;
  if (patch.serial_number) next.serial_number = *patch.serial_number;
  if (patch.software_version) next.software_version = *patch.software_version;
  if (patch.username) next.username = *patch.username;
  if (patch.password) {
    // The same password again keeps its stored form (an update that changes nothing writes
    // nothing); another is sealed below.
    bool same = false;
    if (isSealedCredential(old->password)) {
      auto keys = loadCredentialKeys(conn);
      if (!keys.ok()) return keys.error();
      auto opened = openCredential(*keys, old->password);
      same = opened.ok() && *opened == *patch.password;
    } else {
      same = old->password == *patch.password;
    }
    if (!same) next.password = *patch.password;
  }
  if (patch.addresses && !patch.password && !old->password.empty()) {
    // The stored password was given for the old addresses: the next poll would send it to
    // whatever listens at a new one. It must be given again with (or after) the change.
    const auto& before = old->addresses;
    const bool new_address =
        std::any_of(next.addresses.begin(), next.addresses.end(), [&](const std::string& a) {
          return std::find(before.begin(), before.end(), a) == before.end();
        });
    if (new_address) {
      next.password.clear();
      if (notices != nullptr) {
        notices->push_back(
            "the system's management password was dropped because its addresses changed; set "
            "\"credentials\" again so that Atrium can poll it");
      }
    }
  }
  if (patch.status) next.status = *patch.status;
  if (patch.last_seen) next.last_seen = truncateMs(*patch.last_seen);
  if (patch.h323_id) next.h323_id = *patch.h323_id;
  if (patch.e164_alias) next.e164_alias = *patch.e164_alias;
  if (patch.sip_uri) next.sip_uri = *patch.sip_uri;
  if (next.folder_id && next.folder_id != old->folder_id) {
    ATRIUM_TRY(requireFolder(conn, cat, *next.folder_id, "folder_id"));
  }
  // A legacy clear value is sealed by the first write that touches the system.
  auto sealed = sealForStorage(conn, next.password);
  if (!sealed.ok()) return sealed.error();
  next.password = std::move(*sealed);
  auto [old_part, new_part] = changedFields(systemJson(*old), systemJson(next));
  if (new_part.empty()) return *old;
  next.updated_at = truncateMs(clock_.now());
  auto r = conn.query(cat.update_system, systemUpdateParams(next));
  if (!r.ok()) return r.error();
  ATRIUM_TRY(writeAudit(conn, next.updated_at, actor, "update", "system", id, old_part, new_part));
  ATRIUM_TRY(tx.commit());
  return next;
}

Status Store::deleteSystem(const std::string& id, const std::string& actor) {
  const Catalogue& cat = catalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  auto old = loadSystem(conn, cat.select_system_for_update, id);
  if (!old.ok()) return old.error();
  auto r = conn.query(cat.delete_system, Params{id});
  if (!r.ok()) return r.error();
  ATRIUM_TRY(writeAudit(conn, clock_.now(), actor, "delete", "system", id, masked(systemJson(*old)),
                        nullptr));
  return tx.commit();
}

// ---- audit -------------------------------------------------------------------------------

Status Store::recordAudit(const std::string& actor, std::string_view action,
                          std::string_view entity_type, const std::string& entity_id,
                          const std::string& old_value, const std::string& new_value) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto parse = [](const std::string& text) {
    if (text.empty()) return json(nullptr);
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    return j.is_discarded() ? json(text) : j;
  };
  return writeAudit(**pooled, clock_.now(), actor, action, entity_type, entity_id, parse(old_value),
                    parse(new_value));
}

Result<Page<AuditEntry>> Store::audit(const AuditFilter& filter) {
  const Catalogue& cat = catalogueFor(db_.dialect());
  ATRIUM_TRY(checkPaging(filter.limit, filter.offset));
  Params params{filter.entity_type ? Value(*filter.entity_type) : Value(nullptr),
                filter.entity_id ? Value(*filter.entity_id) : Value(nullptr),
                filter.actor ? Value(*filter.actor) : Value(nullptr)};
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  return pageOf<AuditEntry>(**pooled, cat.count_audit, cat.list_audit, std::move(params), filter.limit,
                            filter.offset, [](const Rows& r, std::size_t i) {
                              AuditEntry e;
                              e.id = r.integer(i, 0);
                              e.at = fromMs(r.integer(i, 1));
                              e.actor = r.text(i, 2);
                              e.action = r.text(i, 3);
                              e.entity_type = r.text(i, 4);
                              e.entity_id = r.text(i, 5);
                              e.old_value = r.text(i, 6);
                              e.new_value = r.text(i, 7);
                              return e;
                            });
}

}  // namespace atrium::store
