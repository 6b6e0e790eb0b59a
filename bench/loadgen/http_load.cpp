// HTTP JSON-RPC load over kept-alive connections. Closed loop (each connection sends its next
// request when the previous answer is in) measures throughput at a fixed concurrency; open loop
// (--rate) measures latency at a fixed offered rate, each request timed from the moment it was
// due, so a stalled server cannot hide its stall by slowing the generator down.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <iostream>

#include "common.hpp"

namespace vixy::loadgen {
namespace {

struct HttpRun {
  tcp::endpoint target;
  std::string path;
  std::string body;
  double rate = 0;  // 0: closed loop
  Clock::time_point start, measure_from, end;
  std::uint64_t next_index = 0;  // open loop: the next request due
  std::uint64_t ok = 0, errors = 0, reconnects = 0;
  std::uint64_t response_bytes = 0;
  Latencies latencies;
  int running = 0;
};

asio::awaitable<bool> connect(beast::tcp_stream& stream, const tcp::endpoint& target) {
  auto [ec] = co_await stream.async_connect(target, use_tuple);
  if (ec) co_return false;
  stream.socket().set_option(tcp::no_delay(true));
  co_return true;
}

asio::awaitable<void> http_worker(HttpRun& run) {
  auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream stream(executor);
  asio::steady_timer timer(executor);
  http::request<http::string_body> request{http::verb::post, run.path, 11};
  request.set(http::field::host, "127.0.0.1");
  request.set(http::field::content_type, "application/json");
  request.body() = run.body;
  request.prepare_payload();
  beast::flat_buffer buffer;
  bool connected = co_await connect(stream, run.target);
  while (true) {
    Clock::time_point due = Clock::now();
    if (run.rate > 0) {
      auto index = run.next_index++;
      due = run.start + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(static_cast<double>(index) / run.rate));
      if (due >= run.end) break;
      timer.expires_at(due);
      co_await timer.async_wait(use_tuple);
    } else if (due >= run.end) {
      break;
    }
    if (!connected) {
      ++run.reconnects;
      stream.close();
      connected = co_await connect(stream, run.target);
      if (!connected) {
        ++run.errors;
        timer.expires_after(std::chrono::milliseconds(1));
        co_await timer.async_wait(use_tuple);
        continue;
      }
    }
    auto [write_ec, written] = co_await http::async_write(stream, request, use_tuple);
    http::response<http::string_body> response;
    beast::error_code read_ec;
    if (!write_ec) {
      auto [ec, read] = co_await http::async_read(stream, buffer, response, use_tuple);
      read_ec = ec;
    }
    auto done = Clock::now();
    if (write_ec || read_ec) {
      ++run.errors;
      connected = false;
      continue;
    }
    bool counted = (run.rate > 0 ? due : done) >= run.measure_from;
    if (response.result() != http::status::ok || response.body().empty()) {
      run.errors += counted;
    } else if (counted) {
      ++run.ok;
      run.response_bytes += response.body().size();
      run.latencies.add(done - due);
    }
    if (!response.keep_alive()) connected = false;
  }
  --run.running;
}

}  // namespace

int run_http(const Options& options) {
  HttpRun run;
  run.target = options.endpoint("target");
  run.path = options.text("path", "/el");
  run.body = body_of(options.text("body", "blockNumber"));
  run.rate = options.number("rate", 0);
  int concurrency = static_cast<int>(options.number("concurrency", run.rate > 0 ? 16 : 32));
  double duration = options.number("duration", 3);
  double warmup = options.number("warmup", 0.5);
  asio::io_context io(1);
  run.start = Clock::now();
  run.measure_from = run.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
  run.end = run.measure_from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration));
  for (int i = 0; i < concurrency; ++i) {
    ++run.running;
    asio::co_spawn(io, http_worker(run), log::report_exception("http worker"));
  }
  double cpu_before = cpu_seconds();
  io.run();
  double wall = std::chrono::duration<double>(Clock::now() - run.start).count();
  json out{{"mode", "http"},
           {"body", options.text("body", "blockNumber")},
           {"concurrency", concurrency},
           {"rate", run.rate},
           {"ok", run.ok},
           {"errors", run.errors},
           {"reconnects", run.reconnects},
           {"per_second", static_cast<double>(run.ok) / duration},
           {"latency", run.latencies.summary()},
           {"loadgen_cpu", (cpu_seconds() - cpu_before) / wall}};
  std::cout << out.dump() << std::endl;
  return run.ok > 0 ? 0 : 1;
}

}  // namespace vixy::loadgen
