// What the server learns from and about managed systems at run time: poll observations, events,
// call records, tickets, and the installation's server addresses.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/types.h"

namespace atrium::store {

// What one poll saw. Written without an audit entry: an observation, not a change by a person.
// Empty identity fields leave the stored value as it is.
struct PollObservation {
  std::string system_id;
  TimePoint at;
  bool reachable = false;
  // "idle", "in-call", "unreachable", "auth-failed", "error"
  std::string status;
  std::string error;  // why the poll failed; empty when it did not
  std::string model;
  std::string serial_number;
  std::string software_version;
  std::string mac_address;
  std::string reported_name;     // the name the system calls itself
  std::string reported_address;  // the IP address the system reports for itself
  int active_calls = 0;
  std::string h323_status;  // registration, as the device words it
  std::string sip_status;
  std::string node_id;  // the polling node, stored as last_polled_by ('' keeps the stored one)
};

// Something a system sent (or a poll noticed), stored once per idempotency key.
struct StoredEvent {
  std::int64_t id = 0;
  std::optional<std::string> system_id;  // nullopt: the sender is not a known system
  std::string idempotency_key;           // unique across the installation
  std::string source;                    // "feedback", "trap", "notification", "poll"
  std::string kind;                      // e.g. "call-connected", "boot", "cold-start", "link-down"
  TimePoint received_at;
  std::optional<TimePoint> occurred_at;  // when the system says it happened
  std::string node;                      // the node that received it
  std::string source_address;            // the packet's source IP
  std::string payload;                   // JSON object text: the event's details
  // The key of the event's content where a repeat within kRetryWindow is the sender retrying
  // (feedback): storeEvents keeps only the first of those, whichever node received each copy and
  // whenever it reaches the database. Not exposed through the API.
  std::optional<std::string> retry_key;
};

// A repeat of the same feedback content received within this time of a stored copy is a retry
// (Cisco endpoints retry about ten times at one-second intervals); later, it is a new event.
inline constexpr std::chrono::milliseconds kRetryWindow{60'000};

struct EventFilter {
  std::optional<std::string> system_id;
  std::optional<std::int64_t> since_id;  // only events with a larger id, oldest first
  std::optional<TimePoint> since;        // only events received at or after, oldest first
  std::optional<std::string> source;
  std::optional<std::string> kind;
  std::int64_t limit = 100;
  std::int64_t offset = 0;  // without since/since_id: newest first
};

// One call as a system or a bridge reported it.
struct CallRecord {
  std::int64_t id = 0;
  std::string system_id;
  std::string call_id;    // the device's call id
  std::string direction;  // "incoming", "outgoing", "unknown"
  std::string remote;     // remote number or URI
  std::string protocol;
  TimePoint started_at;
  std::optional<TimePoint> ended_at;
  std::optional<std::int64_t> duration_seconds;
  std::string cause;   // disconnect cause, as the device words it
  std::string source;  // "feedback", "trap", "bridge", "poll"
};

// A change to a call record that an event implies, applied with the event (see
// DeviceStore::storeEvents).
struct CallUpdate {
  enum class Kind { kStarted, kEnded };
  Kind kind = Kind::kStarted;
  std::size_t event_index = 0;  // the event (in the batch) this update comes from
  CallRecord record;
};

struct CallRecordFilter {
  std::optional<std::string> system_id;
  std::optional<TimePoint> since;  // started at or after
  bool open_only = false;          // calls not ended yet
  std::int64_t limit = 100;
  std::int64_t offset = 0;  // newest first
};

// Ticket kinds raised and cleared automatically.
inline constexpr const char* kTicketNoResponse = "no-response";
inline constexpr const char* kTicketAuthenticationFailed = "authentication-failed";
inline constexpr const char* kTicketFeedbackNotRegistered = "feedback-not-registered";
inline constexpr const char* kTicketFeedbackSlotFailed = "feedback-slot-failed";
inline constexpr const char* kTicketWrongServerAddress = "wrong-server-address";
inline constexpr const char* kTicketDuplicateAddress = "duplicate-address";
inline constexpr const char* kTicketUnexpectedSoftware = "unexpected-software-version";
inline constexpr const char* kTicketMalformedInput = "malformed-input";      // what it sent us
inline constexpr const char* kTicketUnreadableAnswer = "unreadable-answer";  // what it answered a poll
inline constexpr const char* kTicketFeedbackFlood = "feedback-flood";  // more events than allowed

struct Ticket {
  std::int64_t id = 0;
  std::optional<std::string> system_id;  // nullopt: a server ticket
  std::string kind;
  std::string severity;  // "critical", "major", "minor", "warning", "info"
  std::string message;
  TimePoint first_seen;
  TimePoint last_seen;
  std::optional<TimePoint> cleared_at;
  std::optional<TimePoint> acknowledged_at;
  std::string acknowledged_by;
};

struct TicketFilter {
  std::optional<std::string> system_id;
  std::optional<std::string> kind;
  bool open_only = true;
  std::int64_t limit = 100;
  std::int64_t offset = 0;  // newest first
};

// Where systems reach Atrium (installation settings, TMS's "server addresses").
struct ServerAddresses {
  std::string lan_ipv4;
  std::string lan_ipv6;
  std::string lan_fqdn;
  std::string public_ipv4;
  std::string public_fqdn;
  std::uint16_t http_port = 8080;  // the port systems post feedback to
};

// A system with what polling and ingest need, including its credentials and feedback secret.
struct ManagedSystem {
  System system;
  std::string feedback_secret;  // random, in the feedback URL the system is given
  std::string h323_id;          // persistent settings re-applied on boot/registration
  std::string e164_alias;
  std::string sip_uri;
  std::string reported_address;
};

}  // namespace atrium::store
