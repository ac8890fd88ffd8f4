// The store: the domain's view of the database. Speaks domain types; the SQL lives in each
// dialect's catalogue. Every method borrows a connection from the Database and blocks: call it off
// the network threads. Every change writes its audit entry in the same transaction.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "store/database.h"
#include "store/types.h"

namespace atrium::store {

// The schema version this build knows. Migrations 1..kSchemaVersion are in the catalogues.
int latestSchemaVersion();

class Store {
 public:
  Store(Database& db, const Clock& clock);

  // --- schema -------------------------------------------------------------------------------
  // The recorded schema version; 0 for an empty database.
  Result<int> schemaVersion();
  // Applies the missing migrations in order, each in its own transaction. Returns the version
  // reached. Refuses a database whose version is newer than this build knows.
  Result<int> migrate();
  // OK when the recorded version equals latestSchemaVersion(); otherwise an error that says
  // whether to run `atrium db migrate` or to upgrade Atrium.
  Status checkSchema();

  // --- installation -------------------------------------------------------------------------
  // Creates the installation row (once). Conflict if one exists already.
  Result<Installation> createInstallation(const std::string& name, const std::string& actor);
  // NotFound when the database holds no installation yet.
  Result<Installation> installation();

  // --- folders ------------------------------------------------------------------------------
  Result<Folder> createFolder(const std::string& name, const std::optional<std::string>& parent_id,
                              const std::string& actor);
  Result<Folder> folder(const std::string& id);
  Result<std::vector<Folder>> folders();  // all, ordered by name
  // Renames and/or moves; refuses to move a folder under itself or its descendants (conflict).
  Result<Folder> updateFolder(const std::string& id, const FolderPatch& patch,
                              const std::string& actor);
  // Refuses (conflict) while the folder holds systems or folders.
  Status deleteFolder(const std::string& id, const std::string& actor);

  // --- systems ------------------------------------------------------------------------------
  // Validates nothing about the values (the API does); enforces uniqueness (name, serial_number:
  // conflict with Error::field) and that folder_id exists (invalid_argument, field folder_id).
  Result<System> createSystem(const System& system, const std::string& actor);
  Result<System> system(const std::string& id);
  Result<Page<System>> listSystems(const SystemFilter& filter);
  // A change of addresses that brings a new one drops the stored password unless the patch sets
  // it: it was given for the old addresses. What was dropped is told in `notices`.
  Result<System> updateSystem(const std::string& id, const SystemPatch& patch,
                              const std::string& actor,
                              std::vector<std::string>* notices = nullptr);
  Status deleteSystem(const std::string& id, const std::string& actor);

  // --- audit --------------------------------------------------------------------------------
  Result<Page<AuditEntry>> audit(const AuditFilter& filter);
  // One entry for a change another store made (tasks live in ClusterStore): written on its own,
  // after the change. old_value/new_value are JSON texts ("" for none).
  Status recordAudit(const std::string& actor, std::string_view action,
                     std::string_view entity_type, const std::string& entity_id,
                     const std::string& old_value, const std::string& new_value);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace atrium::store
