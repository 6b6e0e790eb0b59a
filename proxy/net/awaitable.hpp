#pragma once
// The completion token every coroutine of ours awaits with: (error, result...) as a tuple instead
// of an exception. One named constant, not a temporary in each co_await expression (GCC 12 may
// destroy those twice), and one definition, so unity builds see no clashing copies.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace vixy {
inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);
}  // namespace vixy
