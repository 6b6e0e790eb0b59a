#pragma once
// The hostile clients' side that runs on one io_context thread (internal to chaos/hostile*.cpp):
// slow readers, WebSocket attackers, idle connections and the connection flood. Each start_*
// posts its client's start and registers how it is closed at the end of the run.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "chaos/hostile.hpp"

namespace vixy::chaos::hostile_detail {

using Ms = std::chrono::milliseconds;

inline const char* const kSlowReaders = "slow readers";
inline const char* const kNested = "nested JSON";
inline const char* const kHuge = "huge batches";
inline const char* const kIdle = "idle connections";
inline const char* const kFlood = "connection flood";
// A hostile request's answer, over HTTP or WebSocket; a proxy that takes longer has been hurt by it
// (and the run's end waits for the last one).
inline constexpr Ms kAnswerTimeout{5000};

struct HostileIo {
  HostileIo(HostileRunner& r, const HostileWorkload& s, std::uint16_t p) : runner(r), spec(s), port(p) {}
  HostileRunner& runner;
  const HostileWorkload& spec;
  std::uint16_t port;
  boost::asio::io_context io;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard;
  bool attacking = true;
  bool finishing = false;
  std::vector<std::function<void()>> finishers;  // each client's end-of-run close

  boost::asio::ip::tcp::endpoint endpoint() const { return {boost::asio::ip::make_address_v4("127.0.0.1"), port}; }
  bool active() const { return attacking && !finishing; }
  void tally(const char* group, const std::string& outcome) { runner.tally(group, outcome); }
};

void start_slow_reader(HostileIo& h, int index);
// Sends make(1), make(2)... one at a time (the next once the last is answered), every `every`.
void start_ws_attacker(HostileIo& h, const char* group, Ms every, std::function<std::string(std::uint64_t)> make);
void start_idle_connection(HostileIo& h);
void start_flood(HostileIo& h, Ms every);

}  // namespace vixy::chaos::hostile_detail
