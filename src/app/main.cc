#include "app/cli.h"

int main(int argc, char** argv) { return atrium::app::runCli(argc, argv); }
