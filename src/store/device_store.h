// The store's run-time side: what polling and ingest write and the API reads. Blocking: call off
// the network threads. Nothing here writes the audit log (observations are not changes by a
// person), except acknowledgeTicket and the installation settings (setServerAddresses,
// setExpectedSoftwareVersions).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "store/cluster_store.h"
#include "store/database.h"
#include "store/device_types.h"
#include "store/system_credentials.h"

namespace atrium::store {

class DeviceStore {
 public:
  DeviceStore(Database& db, const Clock& clock);
  // A system's management password in clear, for a driver (System::password is the stored,
  // encrypted form). Fails (with no part of the value in the message) when it cannot be opened.
  Result<std::string> systemPassword(const System& system);
  // The same, or "" after logging why (system.password_unreadable): the driver then sends none.
  std::string systemPasswordOrEmpty(const System& system);

  // --- systems as polling and ingest see them ------------------------------------------------
  // Systems in id order after `after_id` (empty: from the start), at most `limit`.
  Result<std::vector<ManagedSystem>> managedSystems(const std::string& after_id, std::int64_t limit);
  Result<ManagedSystem> managedSystem(const std::string& id);
  // NotFound when no system has this secret.
  Result<ManagedSystem> systemByFeedbackSecret(const std::string& secret);
  // (system id, feedback secret) of the systems created at or after `created_since` (the epoch:
  // all of them): what ingest keeps to take posts while the database is away.
  Result<std::vector<std::pair<std::string, std::string>>> feedbackSecrets(
      TimePoint created_since = {});
  // Systems that list this address among theirs (exact match).
  Result<std::vector<ManagedSystem>> systemsByAddress(const std::string& address);
  // Writes what a poll saw. With a fence (a node polling under its bucket lease) the write is
  // conditioned on the lease, on the database clock, and records the node and token
  // (last_polled_by, last_poll_token); once another node holds the lease, or it expired, nothing
  // changes and the answer is kConflict "lease <key> no longer held by this node (token N)".
  Status recordPoll(const PollObservation& observation,
                    const std::optional<Fence>& fence = std::nullopt);
  // Settles a system's connectivity (no audit: the server decided, the event log says why).
  Status setConnectivity(const std::string& system_id, const std::string& connectivity);

  // --- events ----------------------------------------------------------------------------------
  // Stores the events that are new in one transaction; returns how many were new (a duplicate
  // idempotency key is not an error: it was stored before).
  Result<int> insertEvents(const std::vector<StoredEvent>& events);
  // The same, and in the same transaction applies the call updates of the events that were new
  // (a replayed or retried event changes no call record twice). Returns the new events with
  // their ids, in batch order.
  Result<std::vector<StoredEvent>> storeEvents(const std::vector<StoredEvent>& events,
                                               const std::vector<CallUpdate>& call_updates);
  Result<Page<StoredEvent>> events(const EventFilter& filter);
  // Events stored after `after_id`, oldest first, at most `limit`: how a node follows what the
  // others stored. Cheaper than events() (no total is counted).
  Result<std::vector<StoredEvent>> eventsAfter(std::int64_t after_id, std::int64_t limit);
  // The id of the newest event; 0 when there is none.
  Result<std::int64_t> newestEventId();

  // --- call records ----------------------------------------------------------------------------
  // Opens a call record, or updates the open one with the same system and call id.
  Status callStarted(const CallRecord& record);
  // Ends the open record with this system and call id (creating an ended one if none is open).
  Status callEnded(const CallRecord& record);
  Result<Page<CallRecord>> callRecords(const CallRecordFilter& filter);

  // --- tickets ---------------------------------------------------------------------------------
  // Opens a ticket of this kind for the system (or the server), or refreshes last_seen and the
  // message of the open one. At most one open ticket per (system, kind).
  Result<Ticket> raiseTicket(const std::optional<std::string>& system_id, const std::string& kind,
                             const std::string& severity, const std::string& message);
  // Clears the open ticket of this kind, if any.
  Status clearTicket(const std::optional<std::string>& system_id, const std::string& kind);
  Result<Ticket> acknowledgeTicket(std::int64_t id, const std::string& actor);
  Result<Page<Ticket>> tickets(const TicketFilter& filter);

  // --- installation settings ---------------------------------------------------------------------
  // Defaults (empty addresses, port 8080) until set.
  Result<ServerAddresses> serverAddresses();
  Status setServerAddresses(const ServerAddresses& addresses, const std::string& actor);
  // Model (as systems report it) -> the software version the installation expects; empty until
  // set. A system whose model has an entry and reports another version gets a ticket.
  Result<std::map<std::string, std::string>> expectedSoftwareVersions();
  Status setExpectedSoftwareVersions(const std::map<std::string, std::string>& versions,
                                     const std::string& actor);

 private:
  Database& db_;
  const Clock& clock_;
  std::unique_ptr<CredentialOpener> credentials_;
};

}  // namespace atrium::store
