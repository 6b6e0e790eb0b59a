#pragma once
// What a function returns when its input can be wrong: the value, or the message that says what
// was wrong with the input (a URL, a listen address, a request, a path), for the person who wrote
// it. The one shape for such results across the tree, instead of a `std::string* problem`
// out-parameter: the problem travels with the answer and cannot be forgotten or left stale.
// Shaped like C++23's std::expected<T, std::string> (GCC 12 has none), so that it can become one.
// Success never allocates: the problem is an empty std::string then.

#include <optional>
#include <string>
#include <utility>

namespace vixy {

// The failing side of a Result: `return Problem{"port must be 1-65535"};`.
struct Problem {
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  // Implicit, so that a function returns either: `return value;`, `return Problem{...};`.
  Result(T value) : value_(std::move(value)) {}
  Result(Problem problem) : problem_(std::move(problem.message)) {}

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }

  // The value; only when ok().
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

  // What was wrong; "" when ok().
  const std::string& problem() const { return problem_; }

 private:
  std::optional<T> value_;
  std::string problem_;
};

// A check with nothing to return but its verdict.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Problem problem) : ok_(false), problem_(std::move(problem.message)) {}

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const std::string& problem() const { return problem_; }

 private:
  bool ok_ = true;
  std::string problem_;
};

}  // namespace vixy
