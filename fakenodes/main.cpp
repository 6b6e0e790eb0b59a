// vixy-fakenode: a fake EL or CL node for tests, the demo and the chaos harness.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <string_view>
#include <utility>
#include <vector>

#include "fakenodes/cl_node.hpp"
#include "fakenodes/el_node.hpp"
#include "fakenodes/options.hpp"
#include "log/log.hpp"

namespace fk = vixy::fakenodes;

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  fk::ParsedOptions parsed = fk::parse_options(args);
  if (parsed.help) {
    std::cout << fk::usage();
    return 0;
  }
  if (!parsed.options) {
    std::cerr << "vixy-fakenode: " << parsed.error << "\n(run vixy-fakenode --help for usage)\n";
    return 2;
  }
  const fk::NodeOptions& options = *parsed.options;
  if (options.tls) {
    // Unreadable key material is a bad argument too: say which one, before anything starts.
    for (const auto& [flag, file] :
         {std::pair{"--tls-cert", options.tls->cert_file}, std::pair{"--tls-key", options.tls->key_file}}) {
      if (!std::ifstream(file)) {
        std::cerr << "vixy-fakenode: " << flag << ": cannot read '" << file << "'\n";
        return 2;
      }
    }
  }
  vixy::log::set_level(options.log_level);
  vixy::log::set_component("fakenode/" + options.name);

  boost::asio::io_context io(1);
  std::shared_ptr<fk::FakeNode> node;
  try {
    if (options.kind == fk::NodeKind::el) {
      node = fk::ElNode::create(io.get_executor(), options);
    } else {
      node = fk::ClNode::create(io.get_executor(), options);
    }
    if (auto ec = node->start()) {
      vixy::log::error("cannot listen", {{"error", ec.message()}});
      return 1;
    }
  } catch (const std::exception& e) {
    vixy::log::error("cannot start", {{"error", e.what()}});
    return 1;
  }

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    vixy::log::info("stopping", {{"signal", signal}});
    node->stop();
    io.stop();  // exit promptly: open connections are dropped with the process
  });
  io.run();
  return 0;
}
