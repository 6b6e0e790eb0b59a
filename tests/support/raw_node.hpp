#pragma once
// A node that answers with exactly the bytes a test scripts, for answers no server library would
// produce: interim (1xx) answers, junk after an answer, endless event streams, broken framing. It
// reads each request with Beast (keep-alive, one after another) and writes what the script returns,
// on a thread of its own, bound to 127.0.0.1 on a port the system picks.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "chaos/cluster.hpp"

namespace vixy::testing {

struct RawRequest {
  std::string method;
  std::string target;
  std::string body;
  std::uint64_t number = 0;  // 1 for the first request this node read, then 2, ...
};

struct RawAnswer {
  RawAnswer() = default;
  explicit RawAnswer(std::string answer) : bytes(std::move(answer)) {}

  std::string bytes;       // written as they are
  std::string later;       // written `later_after` after `bytes`, in a write of its own
  std::chrono::milliseconds later_after{0};
  bool close = false;      // close the connection once written
  std::string stream;      // when set: written again and again after `bytes` until the peer goes
};

class RawNode {
 public:
  using Script = std::function<RawAnswer(const RawRequest&)>;
  explicit RawNode(Script script);
  ~RawNode();
  RawNode(const RawNode&) = delete;
  RawNode& operator=(const RawNode&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::size_t connections() const { return connections_; }    // accepted so far
  std::size_t open_streams() const { return open_streams_; }  // `stream` answers still being written
  std::size_t later_written() const { return later_written_; }
  std::vector<std::string> targets() const;  // every request's target, in order

 private:
  struct Impl;
  friend struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> open_streams_{0};
  std::atomic<std::size_t> later_written_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> targets_;
};

// HTTP/1.1 answers for scripts. `extra_fields` are whole header lines, each ending in "\r\n".
std::string raw_response(int status, std::string_view body, std::string_view extra_fields = "");
// An answer naming the request it answers: {"data":{"target":"<the request's target>"}}.
RawAnswer echo_target(const RawRequest& request);
// A beacon node that is healthy at slot 100 (under any path prefix) and answers every other path
// with `other`.
RawNode::Script beacon_script(std::function<RawAnswer(const RawRequest&)> other);
// An execution node at block 0x10 that answers every other request with `other`.
RawNode::Script execution_script(std::function<RawAnswer(const RawRequest&)> other);

// The real vixy binary, configured by `toml` (a whole config file) and listening on 127.0.0.1:0.
class VixyProcess {
 public:
  explicit VixyProcess(const std::string& toml);
  ~VixyProcess();
  VixyProcess(const VixyProcess&) = delete;
  VixyProcess& operator=(const VixyProcess&) = delete;
  std::uint16_t port() const { return port_; }
  chaos::ChildProcess& process() { return *process_; }
  chaos::HttpResult get(const std::string& target);
  // /status until the node `name` is healthy; false at the deadline.
  bool wait_healthy(const std::string& name, std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  chaos::TempDir dir_;
  std::unique_ptr<chaos::ChildProcess> process_;
  std::uint16_t port_ = 0;
};

// A vixy config over one EL node "el-raw" and (when cl_url is not empty) one CL node "cl-raw",
// checked every 100 ms; `global_lines` go into [global], `tables` at the end.
std::string raw_config(const std::string& el_url, const std::string& cl_url, const std::string& global_lines = "",
                       const std::string& tables = "");

// Sends `bytes` as they are to 127.0.0.1:port and reads one HTTP response (for requests the test
// clients refuse to build, like TRACE with a body).
chaos::HttpResult raw_exchange(std::uint16_t port, const std::string& bytes,
                               std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace vixy::testing
