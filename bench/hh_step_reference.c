/* The single-HH-compartment workload of bench_core.py as a plain C loop.
 *
 * Same model and scheme as dendrax and Jaxley (bwd_euler): gates by exponential Euler
 * with the voltage at the start of the step, then the linearized implicit voltage step
 * v1 = (v + dt/cm (i_ext - i(v) + g v)) / (1 + dt/cm g), HH parameters of Jaxley's HH
 * channel, cm 1 uF/cm2, the nine exponentials of the rates and gates with libm's exp
 * (dendrax shares one exponential between the six rates). It shows what the step costs
 * written directly in a compiled language.
 *
 * Usage: hh_step_reference STIMULUS.f64 OUT.f64 AREA_UM2 DT_MS
 *   STIMULUS.f64: n_steps float64 currents (nA); OUT.f64 receives n_steps voltages (mV).
 * Prints the fastest of 50 runs in ns per step.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double vtrap(double ratio, double y) { /* x / (exp(x / y) - 1) with ratio = x / y */
    return fabs(ratio) < 1e-6 ? y * (1.0 - ratio / 2.0) : y * ratio / (exp(ratio) - 1.0);
}

static double gate(double x, double dt, double alpha, double beta) {
    double total = alpha + beta, decay = exp(-dt * total);
    return x * decay + alpha / total * (1.0 - decay);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s STIMULUS.f64 OUT.f64 AREA_UM2 DT_MS\n", argv[0]);
        return 2;
    }
    FILE *in = fopen(argv[1], "rb");
    if (!in) { perror(argv[1]); return 1; }
    fseek(in, 0, SEEK_END);
    long n = ftell(in) / (long)sizeof(double);
    rewind(in);
    double *stim = malloc(n * sizeof(double)), *out = malloc(n * sizeof(double));
    if (fread(stim, sizeof(double), n, in) != (size_t)n) { fprintf(stderr, "short read\n"); return 1; }
    fclose(in);
    const double area = atof(argv[3]), dt = atof(argv[4]), cm = 1.0;
    const double na_to_ua_cm2 = 1e5 / area; /* nA on area um2 -> uA/cm2 */
    double best = 1e30;
    for (int rep = 0; rep < 50; rep++) {
        double v = -70.0, m = 0.2, h = 0.2, nn = 0.2;
        double start = seconds();
        for (long i = 0; i < n; i++) {
            /* the six rates first: their exponentials are independent of each other */
            double alpha_m = 0.1 * vtrap(-(v + 40.0) * 0.1, 10.0);
            double beta_m = 4.0 * exp(-(v + 65.0) / 18.0);
            double alpha_h = 0.07 * exp(-(v + 65.0) / 20.0);
            double beta_h = 1.0 / (exp(-(v + 35.0) / 10.0) + 1.0);
            double alpha_n = 0.01 * vtrap(-(v + 55.0) * 0.1, 10.0);
            double beta_n = 0.125 * exp(-(v + 65.0) / 80.0);
            m = gate(m, dt, alpha_m, beta_m);
            h = gate(h, dt, alpha_h, beta_h);
            nn = gate(nn, dt, alpha_n, beta_n);
            double g_na = 0.12 * m * m * m * h, g_k = 0.036 * nn * nn * nn * nn, g_l = 0.0003;
            double g = 1000.0 * (g_na + g_k + g_l); /* uA/cm2/mV */
            double i_ion = 1000.0 * (g_na * (v - 50.0) + g_k * (v + 77.0) + g_l * (v + 54.3));
            v = (v + dt / cm * (stim[i] * na_to_ua_cm2 - i_ion + g * v)) / (1.0 + dt / cm * g);
            out[i] = v;
        }
        double elapsed = seconds() - start;
        if (elapsed < best) best = elapsed;
    }
    FILE *o = fopen(argv[2], "wb");
    if (!o) { perror(argv[2]); return 1; }
    fwrite(out, sizeof(double), n, o);
    fclose(o);
    printf("%.2f\n", best / n * 1e9);
    return 0;
}
