#pragma once
// Which accepted connections are served, which get a short refusal in the overflow lane, and which
// idle connection is closed to make room: the connection caps as a sans-I/O piece (no sockets, no
// timers), so that HttpServer only acts on its verdicts and the bookkeeping is testable alone.
//
// "Idle" means waiting for (or still reading the header of) the next request: a kept-alive
// connection between requests, one that has not sent a request yet (idle from admission on), or a
// slow sender. A connection whose
// handler runs is never idle. The longest-idle connection is the one evicted first, the way nginx
// reuses idle keep-alive connections under its worker_connections cap.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <boost/asio/ip/address.hpp>
#include <boost/intrusive/list.hpp>

namespace vixy::net {

enum class Refusal { max_connections, per_ip, overflow };
const char* to_string(Refusal refusal);

struct ConnectionCaps;

// Served connections, in all and per client address. The gates of every thread's listener share
// one, so that both caps hold for the process; its lock is taken only when a connection is
// admitted or ends, never per request.
class ConnectionCounts {
 public:
  using Address = boost::asio::ip::address;
  enum class Full { no, per_ip, total };
  // Counts one more from `from` unless that would pass a cap (the per-IP cap is checked first).
  Full try_add(const Address& from, const ConnectionCaps& caps);
  void remove(const Address& from);

 private:
  std::mutex mutex_;
  std::size_t total_ = 0;
  std::unordered_map<Address, std::size_t> per_address_;  // only kept while a per-IP cap is set
};

struct ConnectionCaps {
  std::size_t max_connections = 0;         // served connections at most; 0: no cap
  std::size_t max_connections_per_ip = 0;  // served connections from one address; 0: no cap
  std::size_t overflow_lane = 32;          // refused connections that still get an answer at once
  // With several gates sharing the counts (one per thread): this gate's share of max_connections.
  // A gate can make room only with its own idle connections, so without shares one thread could
  // hold every place while another could only refuse. 0: no share.
  std::size_t max_served_here = 0;
};

class ConnectionGate {
 public:
  using Id = std::uint64_t;
  using Address = boost::asio::ip::address;

  enum class Verdict {
    serve,  // counted against the caps
    lane,   // past a cap: gets one short answer (`refusal` says which cap), then is closed
    close,  // past a cap with the lane full: closed at once (refusal: overflow)
  };
  struct Admission {
    Verdict verdict = Verdict::serve;
    std::optional<Refusal> refusal;  // why the connection is not served
    std::optional<Id> evicted;       // the idle connection to close so that this one is served
  };

  // `shared`: the counts the caps are checked against when several gates share them; null: its own.
  explicit ConnectionGate(ConnectionCaps caps, std::shared_ptr<ConnectionCounts> shared = nullptr)
      : caps_(caps), counts_(shared ? std::move(shared) : std::make_shared<ConnectionCounts>()) {}

  // A new connection `id` from `from`. An evicted connection is forgotten here at once (its slot
  // is the new one's); the caller closes it.
  Admission admit(Id id, const Address& from);
  // The connection waits for its next request / starts running a handler.
  void idle(Id id);
  void busy(Id id);
  // The longest-idle served connection, forgotten here at once (the caller closes it); nullopt
  // when none is idle. Also what frees a descriptor when accept runs out of them.
  std::optional<Id> evict_idle();
  // The connection has ended (served, in the lane, or already evicted: all fine).
  void release(Id id);

  std::size_t served() const { return served_; }  // by this gate
  std::size_t in_lane() const { return lane_; }
  std::size_t idle_count() const { return idle_.size(); }
  const ConnectionCaps& caps() const { return caps_; }

 private:
  // The idle list is threaded through the entries themselves: a connection turns idle between
  // every two requests, and a list node allocated each time was one allocation per request.
  struct Entry {
    Id id = 0;
    Address from;
    bool lane = false;
    bool is_idle = false;
    boost::intrusive::list_member_hook<> idle_hook;
  };
  using IdleList =
      boost::intrusive::list<Entry, boost::intrusive::member_hook<Entry, boost::intrusive::list_member_hook<>,
                                                                  &Entry::idle_hook>>;
  Verdict lane_or_close() const;
  void forget_served(std::unordered_map<Id, Entry>::iterator at);

  ConnectionCaps caps_;
  std::unordered_map<Id, Entry> entries_;
  std::shared_ptr<ConnectionCounts> counts_;  // what the caps are checked against
  IdleList idle_;  // front: idle the longest; entries_ owns them (its nodes never move)
  std::size_t served_ = 0;
  std::size_t lane_ = 0;
};

}  // namespace vixy::net
