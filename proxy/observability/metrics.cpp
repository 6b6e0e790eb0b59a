#include "observability/metrics.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <type_traits>

namespace vixy::observability {

// ---- Histogram --------------------------------------------------------------------------------

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (std::isnan(bounds_[i]) || (i > 0 && !(bounds_[i - 1] < bounds_[i]))) {
      throw std::invalid_argument("histogram bounds must be strictly ascending numbers");
    }
  }
  // The +Inf bucket is always rendered; an explicit +Inf bound would render twice.
  if (!bounds_.empty() && std::isinf(bounds_.back()) && bounds_.back() > 0) bounds_.pop_back();
}

void Histogram::observe(double v) noexcept {
  // `le` is inclusive: v lands in the first bucket whose bound is >= v. NaN compares false to
  // every bound and belongs to +Inf only, which lower_bound would not give it.
  std::size_t index = bounds_.size();
  if (!std::isnan(v)) {
    index = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  }
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative_counts() const {
  std::vector<std::uint64_t> counts(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    counts[i] = running;
  }
  return counts;
}

std::vector<double> default_seconds_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

// ---- Family -----------------------------------------------------------------------------------

template <class Metric>
Family<Metric>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                       std::vector<double> buckets)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      buckets_(std::move(buckets)) {}

template <class Metric>
Metric& Family<Metric>::with(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names_.size()) {
    throw std::invalid_argument(name_ + ": expected " + std::to_string(label_names_.size()) +
                                " label values, got " + std::to_string(label_values.size()));
  }
  std::lock_guard lock(mutex_);
  auto it = children_.find(label_values);
  if (it == children_.end()) {
    std::unique_ptr<Metric> child;
    if constexpr (std::is_same_v<Metric, Histogram>) {
      child = std::make_unique<Histogram>(buckets_);
    } else {
      child = std::make_unique<Metric>();
    }
    it = children_.emplace(label_values, std::move(child)).first;
  }
  return *it->second;
}

template <class Metric>
void Family<Metric>::remove(const std::vector<std::string>& label_values) {
  std::lock_guard lock(mutex_);
  children_.erase(label_values);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---- Text exposition --------------------------------------------------------------------------

namespace {

void append_escaped(std::string& out, std::string_view text, bool escape_quotes) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escape_quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void append_number(std::string& out, std::uint64_t v) {
  std::array<char, 24> buf{};
  auto result = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), result.ptr);
}

void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  if (v == 0) {  // also turns -0 into 0
    out += '0';
    return;
  }
  // Heights and counts held in gauges must read as plain integers (12345, not 1.2345e+04), so
  // integral values within the range where doubles are still exact print in fixed notation.
  const bool integral = std::trunc(v) == v && std::fabs(v) < 1e17;
  std::array<char, 64> buf{};
  auto result = integral ? std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::fixed)
                         : std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), result.ptr);
}

// `{a="x",b="y"}` or nothing when there are no labels; `extra` is appended as one more label (le).
void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  auto append_one = [&](std::string_view name, std::string_view value) {
    if (!first) out += ',';
    first = false;
    out += name;
    out += "=\"";
    append_escaped(out, value, true);
    out += '"';
  };
  for (std::size_t i = 0; i < names.size(); ++i) append_one(names[i], values[i]);
  if (!extra_name.empty()) append_one(extra_name, extra_value);
  out += '}';
}

template <class Metric>
void append_header(std::string& out, const Family<Metric>& family, std::string_view type) {
  out += "# HELP ";
  out += family.name();
  out += ' ';
  append_escaped(out, family.help(), false);
  out += "\n# TYPE ";
  out += family.name();
  out += ' ';
  out += type;
  out += '\n';
}

void render_family(std::string& out, const Family<Counter>& family) {
  append_header(out, family, "counter");
  family.for_each([&](const std::vector<std::string>& values, const Counter& counter) {
    out += family.name();
    append_labels(out, family.label_names(), values);
    out += ' ';
    append_number(out, counter.value());
    out += '\n';
  });
}

void render_family(std::string& out, const Family<Gauge>& family) {
  append_header(out, family, "gauge");
  family.for_each([&](const std::vector<std::string>& values, const Gauge& gauge) {
    out += family.name();
    append_labels(out, family.label_names(), values);
    out += ' ';
    append_number(out, gauge.value());
    out += '\n';
  });
}

void render_family(std::string& out, const Family<Histogram>& family) {
  append_header(out, family, "histogram");
  family.for_each([&](const std::vector<std::string>& values, const Histogram& histogram) {
    const std::vector<std::uint64_t> counts = histogram.cumulative_counts();
    const std::vector<double>& bounds = histogram.upper_bounds();
    for (std::size_t i = 0; i < counts.size(); ++i) {
      std::string le;
      if (i < bounds.size()) {
        append_number(le, bounds[i]);
      } else {
        le = "+Inf";
      }
      out += family.name();
      out += "_bucket";
      append_labels(out, family.label_names(), values, "le", le);
      out += ' ';
      append_number(out, counts[i]);
      out += '\n';
    }
    out += family.name();
    out += "_sum";
    append_labels(out, family.label_names(), values);
    out += ' ';
    append_number(out, histogram.sum());
    out += '\n';
    // The +Inf bucket, not count(), so that a scrape racing an observe() still satisfies
    // Prometheus' rule that _count equals the +Inf bucket.
    out += family.name();
    out += "_count";
    append_labels(out, family.label_names(), values);
    out += ' ';
    append_number(out, counts.back());
    out += '\n';
  });
}

}  // namespace

// ---- Registry ---------------------------------------------------------------------------------

namespace {

// Registering a name twice is get-or-create, so independent parts of the program can ask for the
// same family; asking for it with a different shape is a programming error.
template <class Metric>
Family<Metric>* find_compatible(std::deque<Family<Metric>>& families, const std::string& name,
                                const std::vector<std::string>& labels) {
  for (auto& family : families) {
    if (family.name() != name) continue;
    if (family.label_names() != labels) {
      throw std::invalid_argument("metric " + name + " registered again with other labels");
    }
    return &family;
  }
  return nullptr;
}

template <class Metric>
bool has_name(const std::deque<Family<Metric>>& families, const std::string& name) {
  return std::any_of(families.begin(), families.end(), [&](const auto& f) { return f.name() == name; });
}

}  // namespace

Family<Counter>& Registry::counter(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  if (auto* existing = find_compatible(counters_, name, labels)) return *existing;
  if (has_name(gauges_, name) || has_name(histograms_, name)) {
    throw std::invalid_argument("metric " + name + " already registered with another type");
  }
  auto& family = counters_.emplace_back(std::move(name), std::move(help), std::move(labels));
  order_.emplace_back(MetricType::counter, &family);
  return family;
}

Family<Gauge>& Registry::gauge(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  if (auto* existing = find_compatible(gauges_, name, labels)) return *existing;
  if (has_name(counters_, name) || has_name(histograms_, name)) {
    throw std::invalid_argument("metric " + name + " already registered with another type");
  }
  auto& family = gauges_.emplace_back(std::move(name), std::move(help), std::move(labels));
  order_.emplace_back(MetricType::gauge, &family);
  return family;
}

Family<Histogram>& Registry::histogram(std::string name, std::string help, std::vector<std::string> labels,
                                       std::vector<double> buckets) {
  std::lock_guard lock(mutex_);
  if (auto* existing = find_compatible(histograms_, name, labels)) return *existing;
  if (has_name(counters_, name) || has_name(gauges_, name)) {
    throw std::invalid_argument("metric " + name + " already registered with another type");
  }
  // Validate the bounds now rather than at the first with(), where the caller is far away.
  Histogram validate(buckets);
  auto& family = histograms_.emplace_back(std::move(name), std::move(help), std::move(labels),
                                          std::move(buckets));
  order_.emplace_back(MetricType::histogram, &family);
  return family;
}

std::string Registry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [type, family] : order_) {
    switch (type) {
      case MetricType::counter:
        render_family(out, *static_cast<const Family<Counter>*>(family));
        break;
      case MetricType::gauge:
        render_family(out, *static_cast<const Family<Gauge>*>(family));
        break;
      case MetricType::histogram:
        render_family(out, *static_cast<const Family<Histogram>*>(family));
        break;
    }
  }
  return out;
}

}  // namespace vixy::observability
