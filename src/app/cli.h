#pragma once

namespace atrium::app {

// Parses the command line and runs the command; returns the process exit code.
int runCli(int argc, char** argv);

}  // namespace atrium::app
