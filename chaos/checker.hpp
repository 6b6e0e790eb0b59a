#pragma once
// Pure checks of the invariants (ARCHITECTURE §5) on recorded client histories. Nothing here
// touches a socket or a clock: the runner records, this judges, and the unit tests feed it
// hand-written histories that hold and that break each invariant.
//
// What each check can see from the client's side:
//  I1  every request with an id got exactly one answer while the connection stayed open. Ids may be
//      reused, so answers are matched to requests per id in the order the requests were sent.
//  I2  nothing unsolicited: no answer without an outstanding request with that id, no answer that
//      does not fit the request it is matched to (a replayed subscribe answer taking the place of
//      an eth_blockNumber answer), no notification under an id never given to the client; over
//      HTTP, no answer that is another request's.
//  I3  notifications only under subscription ids the client's eth_subscribe answers gave it, none
//      after its eth_unsubscribe was answered; an eth_unsubscribe of a subscription the connection
//      holds is answered `true` (false means it lives on upstream: an id forwarded untranslated).
//  I4  the order requests reach the upstream cannot be seen end-to-end: reported "not checked".
//  I6  after every primary is healthy again (a time the runner knows), web3_clientVersion probes
//      (the fake node's answer ends in "/<node name>") are answered by a primary within a bound.
//  I7  newHeads and logs subscriptions are gapless and duplicate-free (chaos/checker_gapless.hpp).

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaos/checker_gapless.hpp"
#include "chaos/history.hpp"

namespace vixy::chaos {

struct Violation {
  std::string where;    // "client 3 connection 1"
  double at_ms = 0;     // since the start of the run
  std::string message;
};

struct InvariantResult {
  std::string name;      // "I1"
  std::string status;    // "held", "violated", "not checked"
  std::string note;      // why not checked, or what was checked
  std::size_t violation_count = 0;
  std::vector<Violation> first;  // the first few, in the order found
};

struct FailbackSpec {
  std::vector<std::string> primaries;       // EL primary node names
  std::optional<SteadyTime> healthy_since;  // every primary fault cleared; nullopt: not checkable
  std::string not_checkable_reason;         // why healthy_since is empty
  std::chrono::milliseconds within{3000};
};

struct CheckStats {
  std::size_t connections = 0;
  std::size_t closed_by_peer = 0;
  std::size_t requests = 0;
  std::size_t answers = 0;
  std::size_t error_answers = 0;
  std::size_t notifications = 0;
  std::size_t unanswered_at_peer_close = 0;  // open when the proxy closed the connection
  std::vector<double> latencies_ms;           // request to answer
  std::map<std::string, std::size_t> probe_answers_by_node;
  std::optional<double> failback_ms;  // slowest connection's time from healthy_since to a primary probe
  std::size_t never_failed_back = 0;  // connections open at healthy_since whose probes never reached a primary again
  double max_time_on_backup_ms = 0;   // per connection, summed between probes answered by a non-primary
};

struct CheckReport {
  std::vector<InvariantResult> invariants;
  CheckStats stats;
  bool ok() const;
  const InvariantResult* find(const std::string& name) const;
};

// `wanted` lists the invariants to report ("I1", "I2", "I3", "I4", "I6", "I7"), in that order.
CheckReport check_histories(const std::vector<ConnectionHistory>& histories, SteadyTime start,
                            const FailbackSpec& failback, const std::vector<std::string>& wanted,
                            const GaplessSpec& gapless = {});

// Adds the well-behaved HTTP client's findings to I2 (when it is wanted): an answer that is not its
// request's (another id, a batch's answers, a hostile client's nested document) reached it.
void check_http(const std::vector<HttpSample>& samples, SteadyTime start, CheckReport& report);

// Whether `result` can be the answer to `method` (known methods of the fake node only).
bool answer_fits(const std::string& method, const nlohmann::json& result);

// The p-th percentile (0..100) by nearest rank; 0 for no values.
double percentile(std::vector<double> values, double p);

// One line per invariant with its first few violations (print_report and the simulation show them).
void print_invariants(const CheckReport& check, std::FILE* out);

}  // namespace vixy::chaos
