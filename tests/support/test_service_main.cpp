// opea-test-service: a real HTTP microservice for integration tests.
//   opea-test-service --host 127.0.0.1 --port 0 --route /v1/add:append:x ...
// Prints "listening on HOST:PORT" once ready; exits cleanly on SIGTERM/SIGINT.

#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "runtime/errors.hpp"
#include "tests/support/test_service.hpp"

int main(int argc, char** argv) {
  CLI::App app{"HTTP microservice for OPEA integration tests"};
  opea::test::test_service_config cfg;
  std::vector<std::string> routes;
  app.add_option("--host", cfg.host, "address to bind")->capture_default_str();
  app.add_option("--port", cfg.port, "port to bind (0 = ephemeral)")->capture_default_str();
  app.add_option("--threads", cfg.io_threads, "I/O threads")->capture_default_str();
  app.add_option("--route", routes,
                 "PATH:BEHAVIOUR[:ARG]; behaviours: append:TEXT, echo, "
                 "blacklist, status:CODE, badjson, hang, rendezvous:N, "
                 "delay:MS, sse:N");
  CLI11_PARSE(app, argc, argv);
  for (auto& text : routes) {
    auto spec = opea::test::route_spec::parse(text);
    if (!spec) {
      std::cerr << "opea-test-service: " << opea::runtime::describe(spec.error()) << '\n';
      return 2;
    }
    cfg.routes.push_back(std::move(*spec));
  }
  // Block the termination signals before any thread starts, then wait for
  // them synchronously.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto host = cfg.host;
  opea::test::test_service service{std::move(cfg)};
  auto port = service.start();
  if (!port) {
    std::cerr << "opea-test-service: " << opea::runtime::describe(port.error()) << '\n';
    return 1;
  }
  std::cout << "listening on " << host << ":" << *port << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  service.stop();
  return 0;
}
