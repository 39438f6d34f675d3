# What the API modules use from the thread policy (relu_fast._threads).
from relu_fast._table cimport team_report_fn

cdef void use_team_report(team_report_fn report) noexcept
cdef Py_ssize_t grain() noexcept
cdef Py_ssize_t elu_cost(int dt) noexcept
cdef int threads_for(Py_ssize_t work, bint consume=*) noexcept
# a caller that runs threads_for(n) threads holds them between these two (GIL held)
cdef void take_threads(int n) noexcept
cdef void give_threads(int n) noexcept
