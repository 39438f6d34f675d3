# Timing of the kernels' parallel regions for the thread policy (C in _team.h).
cdef extern from "_team.h":
    long long now_ns "rf_now_ns"() noexcept nogil
    long long piece_begin "rf_piece_begin"() noexcept nogil
    ctypedef struct team_work "rf_team_work":
        long long pieces
        long long shortest
    void work_init "rf_work_init"(team_work* w) noexcept nogil
    void piece_end "rf_piece_end"(team_work* w, long long begin) noexcept nogil
    void team_done "rf_team_done"(long long t0, const team_work* w) noexcept nogil
    void team_report "rf_team_report"(long long* region_ns, long long* work_ns) noexcept nogil
    void team_set_worker_delay "rf_team_set_worker_delay"(long long ns) noexcept nogil
