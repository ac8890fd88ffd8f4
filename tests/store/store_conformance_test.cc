// The store's behaviour, written once and run on SQLite and on a real PostgreSQL.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "common/clock.h"
#include "common/ids.h"
#include "store/catalogue.h"
#include "store/store.h"
#include "support/pg_cluster.h"

namespace atrium::store {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::PgCluster;

// One PostgreSQL for the whole binary; a fresh database per test.
struct SharedPostgres {
  std::unique_ptr<PgCluster> cluster;
  std::string error;
};

SharedPostgres& sharedPostgres() {
  static SharedPostgres shared = [] {
    SharedPostgres s;
    auto started = PgCluster::start();
    if (started.ok()) {
      s.cluster = std::move(started).value();
    } else {
      s.error = started.error().message;
    }
    return s;
  }();
  return shared;
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      dir_ = fs::temp_directory_path() / ("atrium-store-" + newUuid());
      fs::create_directories(dir_);
      url_ = "sqlite:" + (dir_ / "atrium.db").string();
    } else {
      auto& pg = sharedPostgres();
      ASSERT_TRUE(pg.cluster) << "PostgreSQL could not be started: " << pg.error;
      static std::atomic<int> counter{0};
      db_name_ = "store_test_" + std::to_string(++counter);
      auto created = pg.cluster->createDatabase(db_name_);
      ASSERT_TRUE(created.ok()) << created.error().message << "\n" << pg.cluster->logText();
      url_ = pg.cluster->url(db_name_);
    }
    auto db = Database::open(url_);
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    store_ = std::make_unique<Store>(*db_, clock_);
  }

  void TearDown() override {
    store_.reset();
    db_.reset();
    if (!db_name_.empty() && sharedPostgres().cluster) {
      auto dropped = sharedPostgres().cluster->dropDatabase(db_name_);
      EXPECT_TRUE(dropped.ok()) << dropped.error().message;
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  void migrate() {
    auto v = store_->migrate();
    ASSERT_TRUE(v.ok()) << v.error().message;
  }

  System makeSystem(const std::string& name) {
    System s;
    s.name = name;
    s.family = "cisco-xapi";
    s.model = "Room Kit";
    s.addresses = {"10.0.0.1"};
    s.username = "admin";
    s.password = "hunter2-secret";
    return s;
  }

  System create(System s) {
    auto r = store_->createSystem(s, "tester");
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : System{};
  }

  std::vector<std::string> names(const SystemFilter& f) {
    auto page = store_->listSystems(f);
    EXPECT_TRUE(page.ok()) << page.error().message;
    std::vector<std::string> out;
    if (page.ok()) {
      for (const auto& s : page->items) out.push_back(s.name);
    }
    return out;
  }

  std::vector<AuditEntry> auditOf(const std::string& type, const std::string& id) {
    AuditFilter f;
    f.entity_type = type;
    f.entity_id = id;
    auto page = store_->audit(f);
    EXPECT_TRUE(page.ok()) << page.error().message;
    return page.ok() ? page->items : std::vector<AuditEntry>{};
  }

  FakeClock clock_{
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'000))};
  fs::path dir_;
  std::string db_name_;
  std::string url_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, MigrateFromEmptyReachesLatestAndIsIdempotent) {
  auto before = store_->schemaVersion();
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_EQ(*before, 0);
  auto v = store_->migrate();
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(*v, latestSchemaVersion());
  auto again = store_->migrate();
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, latestSchemaVersion());
  EXPECT_EQ(*store_->schemaVersion(), latestSchemaVersion());
  EXPECT_TRUE(store_->checkSchema().ok());
}

TEST_P(StoreTest, CatalogueMigrationsMatchAcrossDialects) {
  EXPECT_EQ(sqliteCatalogue().migrations.size(), postgresCatalogue().migrations.size());
  EXPECT_GE(latestSchemaVersion(), 1);
}

TEST_P(StoreTest, CheckSchemaExplainsWhatToDo) {
  auto empty = store_->checkSchema();
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("has no Atrium schema; run `atrium init`"),
            std::string::npos)
      << empty.error().message;

  migrate();
  {
    auto conn = db_->acquire();
    ASSERT_TRUE(conn.ok());
    auto r = (**conn).query(
        "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
        std::vector<Value>{std::int64_t{latestSchemaVersion() + 1}, std::int64_t{0}});
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  auto newer = store_->checkSchema();
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.error().message.find(
                fmt::format("schema version {} is newer than this build knows ({}); upgrade Atrium",
                            latestSchemaVersion() + 1, latestSchemaVersion())),
            std::string::npos)
      << newer.error().message;
  auto refused = store_->migrate();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_NE(refused.error().message.find("upgrade Atrium"), std::string::npos);

  {
    auto conn = db_->acquire();
    ASSERT_TRUE(conn.ok());
    // Pretend the database is at an older version than this build (1; 0 would read as no schema).
    ASSERT_TRUE((**conn).query("DELETE FROM schema_version").ok());
    ASSERT_TRUE(
        (**conn).query("INSERT INTO schema_version (version, applied_at) VALUES (1, 0)").ok());
  }
  if (latestSchemaVersion() > 1) {
    auto older = store_->checkSchema();
    ASSERT_FALSE(older.ok());
    EXPECT_NE(older.error().message.find("run `atrium db migrate`"), std::string::npos);
  }
}

TEST_P(StoreTest, InstallationIsCreatedOnce) {
  migrate();
  auto none = store_->installation();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);

  auto inst = store_->createInstallation("Acme video", "cli");
  ASSERT_TRUE(inst.ok()) << inst.error().message;
  EXPECT_EQ(inst->name, "Acme video");
  EXPECT_EQ(inst->epoch, 1);
  EXPECT_EQ(inst->created_at, clock_.now());

  auto second = store_->createInstallation("Other", "cli");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kConflict);

  auto read = store_->installation();
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->id, inst->id);
  EXPECT_EQ(read->name, "Acme video");
  EXPECT_EQ(read->created_at, inst->created_at);
  EXPECT_EQ(auditOf("installation", inst->id).size(), 1u);
}

TEST_P(StoreTest, FolderTree) {
  migrate();
  auto europe = store_->createFolder("Europe", std::nullopt, "alice");
  ASSERT_TRUE(europe.ok()) << europe.error().message;
  auto oslo = store_->createFolder("Oslo", europe->id, "alice");
  ASSERT_TRUE(oslo.ok()) << oslo.error().message;
  auto floor = store_->createFolder("Floor 3", oslo->id, "alice");
  ASSERT_TRUE(floor.ok()) << floor.error().message;

  // Sibling names are unique, top level included.
  auto dup_top = store_->createFolder("Europe", std::nullopt, "alice");
  ASSERT_FALSE(dup_top.ok());
  EXPECT_EQ(dup_top.error().code, ErrorCode::kConflict);
  EXPECT_EQ(dup_top.error().field, "name");
  auto dup_child = store_->createFolder("Oslo", europe->id, "alice");
  ASSERT_FALSE(dup_child.ok());
  EXPECT_EQ(dup_child.error().field, "name");
  // The same name under another parent is fine.
  EXPECT_TRUE(store_->createFolder("Oslo", std::nullopt, "alice").ok());

  auto bad_parent = store_->createFolder("X", newUuid(), "alice");
  ASSERT_FALSE(bad_parent.ok());
  EXPECT_EQ(bad_parent.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad_parent.error().field, "parent_id");

  // Rename.
  clock_.advance(std::chrono::seconds(5));
  FolderPatch rename;
  rename.name = "Oslo HQ";
  auto renamed = store_->updateFolder(oslo->id, rename, "bob");
  ASSERT_TRUE(renamed.ok()) << renamed.error().message;
  EXPECT_EQ(renamed->name, "Oslo HQ");
  EXPECT_EQ(renamed->parent_id, europe->id);
  EXPECT_GT(renamed->updated_at, oslo->created_at);
  EXPECT_EQ(store_->folder(oslo->id)->name, "Oslo HQ");

  // Cycles are refused: under itself, and under its own descendant.
  FolderPatch self;
  self.parent_id = std::optional<std::string>(europe->id);
  auto under_self = store_->updateFolder(europe->id, self, "bob");
  ASSERT_FALSE(under_self.ok());
  EXPECT_EQ(under_self.error().code, ErrorCode::kConflict);
  FolderPatch under_grandchild;
  under_grandchild.parent_id = std::optional<std::string>(floor->id);
  auto cycle = store_->updateFolder(europe->id, under_grandchild, "bob");
  ASSERT_FALSE(cycle.ok());
  EXPECT_EQ(cycle.error().code, ErrorCode::kConflict);

  // Move to the top level, and back.
  FolderPatch to_top;
  to_top.parent_id = std::optional<std::string>();
  auto moved = store_->updateFolder(floor->id, to_top, "bob");
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_FALSE(moved->parent_id.has_value());
  auto audit = auditOf("folder", floor->id);
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].action, "move");
  EXPECT_EQ(json::parse(audit[0].old_value), json({{"parent_id", oslo->id}}));
  EXPECT_EQ(json::parse(audit[0].new_value), json({{"parent_id", nullptr}}));

  // Delete refuses a non-empty folder.
  auto not_empty = store_->deleteFolder(europe->id, "bob");
  ASSERT_FALSE(not_empty.ok());
  EXPECT_EQ(not_empty.error().code, ErrorCode::kConflict);
  System s = makeSystem("Room in Oslo");
  s.folder_id = oslo->id;
  System created = create(s);
  auto holds_system = store_->deleteFolder(oslo->id, "bob");
  ASSERT_FALSE(holds_system.ok());
  EXPECT_EQ(holds_system.error().code, ErrorCode::kConflict);
  ASSERT_TRUE(store_->deleteSystem(created.id, "bob").ok());
  ASSERT_TRUE(store_->deleteFolder(oslo->id, "bob").ok());
  ASSERT_TRUE(store_->deleteFolder(europe->id, "bob").ok());
  auto gone = store_->folder(europe->id);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  auto missing = store_->deleteFolder(europe->id, "bob");
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  auto all = store_->folders();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);  // "Floor 3" and the top-level "Oslo"
  EXPECT_EQ((*all)[0].name, "Floor 3");
  EXPECT_EQ((*all)[1].name, "Oslo");

  auto europe_audit = auditOf("folder", europe->id);
  ASSERT_EQ(europe_audit.size(), 2u);
  EXPECT_EQ(europe_audit[0].action, "delete");
  EXPECT_EQ(europe_audit[0].new_value, "null");
  EXPECT_EQ(json::parse(europe_audit[0].old_value)["name"], "Europe");
  EXPECT_EQ(europe_audit[1].action, "create");
  EXPECT_EQ(europe_audit[1].old_value, "null");
}

TEST_P(StoreTest, SystemCrud) {
  migrate();
  auto folder = store_->createFolder("Lab", std::nullopt, "alice");
  ASSERT_TRUE(folder.ok());
  System in = makeSystem("Boardroom");
  in.addresses = {"10.0.0.7", "boardroom.example.com"};
  in.folder_id = folder->id;
  in.serial_number = "FTT1234";
  in.software_version = "ce11.5";
  in.connectivity = "behind-firewall";
  in.last_seen = clock_.now() - std::chrono::minutes(1);
  auto created = store_->createSystem(in, "alice");
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(created->id.size(), 36u);
  EXPECT_EQ(created->created_at, clock_.now());
  EXPECT_EQ(created->updated_at, clock_.now());

  auto read = store_->system(created->id);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->name, "Boardroom");
  EXPECT_EQ(read->family, "cisco-xapi");
  EXPECT_EQ(read->model, "Room Kit");
  EXPECT_EQ(read->addresses, in.addresses);
  EXPECT_EQ(read->folder_id, folder->id);
  EXPECT_EQ(read->connectivity, "behind-firewall");
  EXPECT_EQ(read->serial_number, "FTT1234");
  EXPECT_EQ(read->software_version, "ce11.5");
  EXPECT_EQ(read->username, "admin");
  EXPECT_EQ(read->password, "hunter2-secret");
  EXPECT_EQ(read->status, "unknown");
  EXPECT_EQ(read->last_seen, in.last_seen);
  EXPECT_EQ(read->created_at, created->created_at);

  clock_.advance(std::chrono::seconds(30));
  SystemPatch patch;
  patch.name = "Boardroom 2";
  patch.folder_id = std::optional<std::string>();
  patch.serial_number = std::optional<std::string>();
  patch.password = "new-secret-pw";
  patch.addresses = std::vector<std::string>{"10.0.0.8"};
  auto updated = store_->updateSystem(created->id, patch, "bob");
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  EXPECT_EQ(updated->name, "Boardroom 2");
  EXPECT_FALSE(updated->folder_id.has_value());
  EXPECT_FALSE(updated->serial_number.has_value());
  EXPECT_EQ(updated->updated_at, clock_.now());
  auto reread = store_->system(created->id);
  ASSERT_TRUE(reread.ok());
  EXPECT_EQ(reread->name, "Boardroom 2");
  EXPECT_EQ(reread->password, "new-secret-pw");
  EXPECT_EQ(reread->addresses, std::vector<std::string>{"10.0.0.8"});
  EXPECT_FALSE(reread->serial_number.has_value());
  EXPECT_EQ(reread->updated_at, clock_.now());

  // An update that changes nothing writes nothing.
  SystemPatch same;
  same.name = "Boardroom 2";
  ASSERT_TRUE(store_->updateSystem(created->id, same, "bob").ok());

  ASSERT_TRUE(store_->deleteSystem(created->id, "carol").ok());
  auto gone = store_->system(created->id);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  auto again = store_->deleteSystem(created->id, "carol");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
  auto missing_update = store_->updateSystem(newUuid(), patch, "bob");
  ASSERT_FALSE(missing_update.ok());
  EXPECT_EQ(missing_update.error().code, ErrorCode::kNotFound);

  // Audit: create, update, delete; old and new values; the password never appears.
  auto audit = auditOf("system", created->id);
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].action, "delete");
  EXPECT_EQ(audit[0].actor, "carol");
  EXPECT_EQ(audit[0].new_value, "null");
  EXPECT_EQ(json::parse(audit[0].old_value)["name"], "Boardroom 2");
  EXPECT_EQ(audit[1].action, "update");
  EXPECT_EQ(audit[1].actor, "bob");
  EXPECT_EQ(audit[1].at, created->created_at + std::chrono::seconds(30));
  const json old_value = json::parse(audit[1].old_value);
  const json new_value = json::parse(audit[1].new_value);
  EXPECT_EQ(old_value, json({{"name", "Boardroom"},
                             {"folder_id", folder->id},
                             {"serial_number", "FTT1234"},
                             {"password", "***"},
                             {"addresses", {"10.0.0.7", "boardroom.example.com"}}}));
  EXPECT_EQ(new_value, json({{"name", "Boardroom 2"},
                             {"folder_id", nullptr},
                             {"serial_number", nullptr},
                             {"password", "***"},
                             {"addresses", {"10.0.0.8"}}}));
  EXPECT_EQ(audit[2].action, "create");
  EXPECT_EQ(audit[2].old_value, "null");
  EXPECT_EQ(json::parse(audit[2].new_value)["serial_number"], "FTT1234");
  EXPECT_EQ(json::parse(audit[2].new_value)["password"], "***");

  AuditFilter everything;
  everything.limit = 1000;
  auto all = store_->audit(everything);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->total, 4);  // the folder's creation too
  for (const auto& e : all->items) {
    for (std::string_view secret : {"hunter2-secret", "new-secret-pw"}) {
      EXPECT_EQ(e.old_value.find(secret), std::string::npos) << e.old_value;
      EXPECT_EQ(e.new_value.find(secret), std::string::npos) << e.new_value;
    }
  }
  AuditFilter by_actor;
  by_actor.actor = "bob";
  EXPECT_EQ(store_->audit(by_actor)->total, 1);
}

TEST_P(StoreTest, UniqueNameAndSerialAreConflictsWithField) {
  migrate();
  System a = makeSystem("Alpha");
  a.serial_number = "SN-1";
  create(a);
  auto same_name = store_->createSystem(makeSystem("Alpha"), "t");
  ASSERT_FALSE(same_name.ok());
  EXPECT_EQ(same_name.error().code, ErrorCode::kConflict);
  EXPECT_EQ(same_name.error().field, "name");

  System b = makeSystem("Beta");
  b.serial_number = "SN-1";
  auto same_serial = store_->createSystem(b, "t");
  ASSERT_FALSE(same_serial.ok());
  EXPECT_EQ(same_serial.error().code, ErrorCode::kConflict);
  EXPECT_EQ(same_serial.error().field, "serial_number");

  // Several systems without a serial number are fine.
  create(makeSystem("Gamma"));
  System delta = create(makeSystem("Delta"));

  SystemPatch rename;
  rename.name = "Alpha";
  auto clash = store_->updateSystem(delta.id, rename, "t");
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().code, ErrorCode::kConflict);
  EXPECT_EQ(clash.error().field, "name");

  // The failed changes left no audit entries.
  AuditFilter f;
  EXPECT_EQ(store_->audit(f)->total, 3);
}

TEST_P(StoreTest, UnknownFolderIsInvalidArgument) {
  migrate();
  System s = makeSystem("Nowhere");
  s.folder_id = newUuid();
  auto r = store_->createSystem(s, "t");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().field, "folder_id");

  System ok = create(makeSystem("Somewhere"));
  SystemPatch p;
  p.folder_id = std::optional<std::string>(newUuid());
  auto u = store_->updateSystem(ok.id, p, "t");
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(u.error().field, "folder_id");
}

TEST_P(StoreTest, ListFilters) {
  migrate();
  auto lab = store_->createFolder("Lab", std::nullopt, "t");
  ASSERT_TRUE(lab.ok());
  System a = makeSystem("Oslo 100% Room");
  a.folder_id = lab->id;
  a.status = "reachable";
  a.addresses = {"10.0.0.1", "oslo.example.com"};
  create(a);
  System b = makeSystem("oslo_lab");
  b.family = "polycom";
  b.status = "unreachable";
  b.addresses = {"10.0.0.2"};
  b.connectivity = "reachable-public";
  create(b);
  System c = makeSystem("Bergen MCU");
  c.family = "cisco-mcu";
  c.folder_id = lab->id;
  c.addresses = {"10.0.0.10"};
  create(c);
  System d = makeSystem("Osloxlab");
  d.addresses = {};
  create(d);

  SystemFilter f;
  EXPECT_EQ(names(f).size(), 4u);

  SystemFilter family;
  family.family = "polycom";
  EXPECT_EQ(names(family), std::vector<std::string>{"oslo_lab"});

  SystemFilter in_lab;
  in_lab.folder_id = lab->id;
  EXPECT_EQ(names(in_lab), (std::vector<std::string>{"Bergen MCU", "Oslo 100% Room"}));

  SystemFilter unfiled;
  unfiled.unfiled = true;
  EXPECT_EQ(names(unfiled), (std::vector<std::string>{"oslo_lab", "Osloxlab"}));

  SystemFilter status;
  status.status = "unreachable";
  EXPECT_EQ(names(status), std::vector<std::string>{"oslo_lab"});

  SystemFilter connectivity;
  connectivity.connectivity = "reachable-public";
  EXPECT_EQ(names(connectivity), std::vector<std::string>{"oslo_lab"});

  SystemFilter contains;
  contains.name_contains = "OSLO";
  EXPECT_EQ(names(contains), (std::vector<std::string>{"Oslo 100% Room", "oslo_lab", "Osloxlab"}));
  // % and _ are literal characters, not wildcards.
  contains.name_contains = "_lab";
  EXPECT_EQ(names(contains), std::vector<std::string>{"oslo_lab"});
  contains.name_contains = "100%";
  EXPECT_EQ(names(contains), std::vector<std::string>{"Oslo 100% Room"});
  contains.name_contains = "%";
  EXPECT_EQ(names(contains), std::vector<std::string>{"Oslo 100% Room"});

  SystemFilter address;
  address.address = "oslo.example.com";
  EXPECT_EQ(names(address), std::vector<std::string>{"Oslo 100% Room"});
  address.address = "10.0.0.1";  // exact: not 10.0.0.10
  EXPECT_EQ(names(address), std::vector<std::string>{"Oslo 100% Room"});
  address.address = "10.0.0";
  EXPECT_TRUE(names(address).empty());

  SystemFilter combined;
  combined.name_contains = "oslo";
  combined.folder_id = lab->id;
  combined.status = "reachable";
  EXPECT_EQ(names(combined), std::vector<std::string>{"Oslo 100% Room"});
}

TEST_P(StoreTest, SortingAndPaging) {
  migrate();
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"delta", "m-3"}, {"Alpha", "m-2"}, {"charlie", "m-4"}, {"Bravo", "m-1"}, {"echo", "m-5"}};
  for (const auto& [name, model] : rows) {
    System s = makeSystem(name);
    s.model = model;
    create(s);
    clock_.advance(std::chrono::seconds(1));
  }
  SystemFilter by_name;
  EXPECT_EQ(names(by_name),
            (std::vector<std::string>{"Alpha", "Bravo", "charlie", "delta", "echo"}));
  by_name.order = SortOrder::kDescending;
  EXPECT_EQ(names(by_name),
            (std::vector<std::string>{"echo", "delta", "charlie", "Bravo", "Alpha"}));

  SystemFilter by_model;
  by_model.sort = "model";
  EXPECT_EQ(names(by_model),
            (std::vector<std::string>{"Bravo", "Alpha", "delta", "charlie", "echo"}));

  SystemFilter by_created;
  by_created.sort = "created_at";
  by_created.order = SortOrder::kDescending;
  EXPECT_EQ(names(by_created),
            (std::vector<std::string>{"echo", "Bravo", "charlie", "Alpha", "delta"}));
  by_created.order = SortOrder::kAscending;
  EXPECT_EQ(names(by_created),
            (std::vector<std::string>{"delta", "Alpha", "charlie", "Bravo", "echo"}));

  SystemFilter page;
  page.limit = 2;
  page.offset = 2;
  auto p = store_->listSystems(page);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->total, 5);
  ASSERT_EQ(p->items.size(), 2u);
  EXPECT_EQ(p->items[0].name, "charlie");
  EXPECT_EQ(p->items[1].name, "delta");
  page.offset = 10;
  auto beyond = store_->listSystems(page);
  ASSERT_TRUE(beyond.ok());
  EXPECT_EQ(beyond->total, 5);
  EXPECT_TRUE(beyond->items.empty());

  SystemFilter evil;
  evil.sort = "name; DROP TABLE systems";
  auto refused = store_->listSystems(evil);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(refused.error().field, "sort");
  EXPECT_EQ(names(SystemFilter{}).size(), 5u);
}

TEST_P(StoreTest, AuditPaging) {
  migrate();
  for (int i = 0; i < 5; ++i) create(makeSystem("s" + std::to_string(i)));
  AuditFilter f;
  f.limit = 2;
  f.offset = 1;
  auto page = store_->audit(f);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->total, 5);
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_GT(page->items[0].id, page->items[1].id);  // newest first
  EXPECT_EQ(json::parse(page->items[0].new_value)["name"], "s3");
}

TEST_P(StoreTest, ConflictsFromTheDriverNameTheColumn) {
  migrate();
  auto conn = db_->acquire();
  ASSERT_TRUE(conn.ok());
  std::vector<Value> p{std::string("a"), std::string("x"), nullptr, std::int64_t{1},
                       std::int64_t{1}};
  const std::string insert =
      "INSERT INTO folders (id, name, parent_id, created_at, updated_at) VALUES ($1, $2, $3, $4, "
      "$5)";
  ASSERT_TRUE((**conn).query(insert, p).ok());
  p[0] = std::string("b");
  auto dup = (**conn).query(insert, p);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
  EXPECT_EQ(dup.error().field, "name");
  auto rows = (**conn).query("SELECT name, created_at, parent_id FROM folders WHERE id = $1",
                             std::vector<Value>{std::string("a")});
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->text(0, 0), "x");
  EXPECT_EQ(rows->integer(0, 1), 1);
  EXPECT_TRUE(rows->isNull(0, 2));
  auto del = (**conn).query("DELETE FROM folders");
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->affected, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace atrium::store
