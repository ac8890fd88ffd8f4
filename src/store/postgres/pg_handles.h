// RAII owners of libpq's C handles: a connection, a result, a notification, parsed conninfo.
#pragma once

#include <libpq-fe.h>

#include <memory>

namespace atrium::store {

struct PgConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
struct PgNotifyFreer {
  void operator()(PGnotify* n) const { PQfreemem(n); }
};
struct PgConninfoFreer {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};

using PgConnPtr = std::unique_ptr<PGconn, PgConnCloser>;
using PgResultPtr = std::unique_ptr<PGresult, PgResultClearer>;
using PgNotifyPtr = std::unique_ptr<PGnotify, PgNotifyFreer>;
using PgConninfoPtr = std::unique_ptr<PQconninfoOption, PgConninfoFreer>;

}  // namespace atrium::store
