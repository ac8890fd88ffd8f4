#include <sys/stat.h>

#include "app/cli.h"

int main(int argc, char** argv) {
  // What Atrium writes (the database and its -wal/-shm, backups, the spool, installation.json,
  // locks, a new config) holds the validation key and the systems' credentials: readable by its
  // own user only (files 0600, directories 0700), whatever umask it was started with.
  ::umask(S_IRWXG | S_IRWXO);
  return atrium::app::runCli(argc, argv);
}
