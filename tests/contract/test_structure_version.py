"""One structure version: every mutating builder call bumps `Module.version`, and
`dendrax.compile` caches on (version, options).

For each kind of mutation: the version goes up, compiling gives a new `Simulator`, and
its voltages equal those of a freshly built module with the same calls (to 1e-12), so the
cache can never return a stale result. Without a mutation, compiling again returns the
very same object.
"""

from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH, Leak
from dendrax.morphology import morph_delete
from dendrax.pumps import CaNernstReversal
from dendrax.synapses import IonotropicSynapse

DT, T_MAX = 0.025, 6.0
N_STEPS = int(T_MAX / DT) + 1


def _pulse(amplitude=0.6):
    return jx.step_current(0.5, 4.0, amplitude, DT, T_MAX)


def _cell():
    cell = jx.Cell([jx.Branch(jx.Compartment(), 2)] * 5, parents=[-1, 0, 0, 1, 1])
    cell.set("length", 25.0)
    cell.insert(HH())
    cell.init_states()
    cell.branch(0).comp(0).stimulate(_pulse(), verbose=False)
    cell.branch(4).comp(1).record(verbose=False)
    return cell


def _network():
    cells = [jx.Cell([jx.Branch(jx.Compartment(), 2)] * 2, parents=[-1, 0]) for _ in range(2)]
    net = jx.Network(cells)
    net.insert(HH())
    jx.connect(net.cell(0).branch(0).comp(0), net.cell(1).branch(1).comp(1), IonotropicSynapse())
    net.set("IonotropicSynapse_gS", 0.02)
    net.cell(0).branch(0).comp(0).stimulate(_pulse(1.0), verbose=False)
    net.cell(1).branch(1).comp(1).record(verbose=False)
    return net


def _calcium_cell():
    cell = _cell()
    cell.insert(CaNernstReversal())
    cell.branch(0).set("CaCon_i", 1e-3)
    cell.branch(0).comp(1).record("CaCon_i", verbose=False)
    return cell


def _diffuse(m):
    m.diffuse("CaCon_i")
    m.set("axial_diffusion_CaCon_i", 500.0)  # µm²/ms: visible within the run


def _params(module):
    if not module.get_parameters():
        return None
    return [{k: jnp.asarray(v) * 3.0 for k, v in p.items()} for p in module.get_parameters()]


def _run(module):
    return np.asarray(jx.integrate(module, params=_params(module), t_max=T_MAX, delta_t=DT))


def _restimulate_after_ncomp(m):
    m.delete_recordings()
    m.delete_stimuli()
    m.branch(1).set_ncomp(4)
    m.branch(0).comp(0).stimulate(_pulse(), verbose=False)
    m.branch(4).comp(1).record(verbose=False)


def _train_then_write(m):
    m.write_trainables(_params(m))


def _nodes_frame_write(m):
    m.nodes["v"] = np.full(m.nodes.shape[0], -62.0)


def _nothing(m):
    pass


def _trainable_gk(m):
    m.branch(0).make_trainable("HH_gK", verbose=False)


def _clamp_branch2(m):
    m.branch(2).comp(0).clamp("v", np.full(N_STEPS, -55.0), verbose=False)


def _exp_euler_propagator(m):
    m.customize_solver_exp_euler(m.build_exp_euler_transition_matrix(DT))


#: name -> (build, prepare, mutate, changes the voltages)
CASES = {
    "set node parameter": (_cell, _nothing, lambda m: m.branch(1).set("HH_gNa", 0.3), True),
    "set on a view of a view": (
        _cell,
        _nothing,
        lambda m: m.branch(0).comp(0).set("HH_gK", 0.01),
        True,
    ),
    "set radius": (_cell, _nothing, lambda m: m.branch(2).set("radius", 0.4), True),
    "set area": (_cell, _nothing, lambda m: m.branch(2).set("area", 100.0), True),
    "insert": (_cell, _nothing, lambda m: m.branch(2).insert(Leak()), True),
    "delete channel": (_cell, _nothing, lambda m: m.branch(3).delete(HH()), True),
    "make_trainable": (_cell, _nothing, _trainable_gk, True),
    "delete_trainables then make_trainable elsewhere": (
        _cell,
        _trainable_gk,
        lambda m: (m.delete_trainables(), m.branch(3).make_trainable("HH_gK", verbose=False)),
        True,
    ),
    # the values written are those the run before used: same voltages, no trainables left
    "write_trainables": (_cell, _trainable_gk, _train_then_write, False),
    "record": (_cell, _nothing, lambda m: m.branch(2).comp(1).record(verbose=False), True),
    "delete_recordings then record elsewhere": (
        _cell,
        _nothing,
        lambda m: (m.delete_recordings(), m.branch(2).comp(0).record(verbose=False)),
        True,
    ),
    "stimulate": (
        _cell,
        _nothing,
        lambda m: m.branch(3).comp(0).stimulate(_pulse(), verbose=False),
        True,
    ),
    "delete_stimuli": (_cell, _nothing, lambda m: m.delete_stimuli(), True),
    "clamp": (_cell, _nothing, _clamp_branch2, True),
    "delete_clamps": (_cell, _clamp_branch2, lambda m: m.delete_clamps(), True),
    "set_ncomp": (_cell, _nothing, _restimulate_after_ncomp, True),
    "init_states": (
        _cell,
        _nothing,
        lambda m: (m.set("v", -60.0), m.init_states()),
        True,
    ),
    "nodes frame write": (_cell, _nothing, _nodes_frame_write, True),
    "diffuse": (_calcium_cell, _nothing, _diffuse, True),
    "delete_diffusion": (
        _calcium_cell,
        _diffuse,
        lambda m: m.delete_diffusion("CaCon_i"),
        True,
    ),
    "customize_solver_exp_euler": (_cell, _nothing, _exp_euler_propagator, False),
    "add_to_group": (_cell, _nothing, lambda m: m.branch(1).add_to_group("obl"), False),
    "move": (_cell, _nothing, lambda m: m.move(10.0, 0.0, 0.0), False),
    "compute_compartment_centers": (
        _cell,
        _nothing,
        lambda m: m.compute_compartment_centers(),
        False,
    ),
    "connect": (
        _network,
        _nothing,
        lambda m: jx.connect(
            m.cell(1).branch(0).comp(0), m.cell(0).branch(1).comp(1), IonotropicSynapse()
        ),
        True,
    ),
    "set synapse parameter": (
        _network,
        _nothing,
        lambda m: m.IonotropicSynapse.set("IonotropicSynapse_gS", 0.2),
        True,
    ),
    "make_trainable on synapses": (
        _network,
        _nothing,
        lambda m: m.IonotropicSynapse.make_trainable("IonotropicSynapse_gS", verbose=False),
        True,
    ),
    "copy_node_property_to_edges": (
        _network,
        _nothing,
        lambda m: m.copy_node_property_to_edges("global_cell_index"),
        False,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_every_mutation_bumps_the_version_and_compiles_to_the_fresh_result(name):
    build, prepare, mutate, changes = CASES[name]
    module = build()
    prepare(module)
    before = _run(module)
    sim = jx.compile(module, delta_t=DT)
    version = module.version

    mutate(module)
    assert module.version > version
    assert jx.compile(module, delta_t=DT) is not sim
    got = _run(module)

    fresh = build()
    prepare(fresh)
    mutate(fresh)
    np.testing.assert_allclose(got, _run(fresh), rtol=0, atol=1e-12)
    if changes:  # the mutation matters, so the comparison above could fail
        assert got.shape != before.shape or np.abs(got - before).max() > 1e-6


def test_no_mutation_gives_the_same_cached_simulator():
    cell = _cell()
    sim = jx.compile(cell, delta_t=DT)
    _run(cell)
    # reading the module is not a mutation
    _ = (cell.nodes, cell.show(), cell.get_parameters(), cell.tables, cell.branch(1).nodes)
    assert jx.compile(cell, delta_t=DT) is sim
    assert jx.compile(cell.branch(2), delta_t=DT) is sim  # a view compiles its base
    # other options are cached separately, and do not evict the first
    other = jx.compile(cell, delta_t=DT, voltage_solver="jax.sparse")
    assert other is not sim and jx.compile(cell, delta_t=DT, voltage_solver="jax.sparse") is other
    assert jx.compile(cell, delta_t=DT) is sim
    assert jx.compile(cell, delta_t=DT / 2) is not sim


def test_views_share_the_version_of_their_base():
    cell = _cell()
    view = cell.branch(1)
    version = cell.version
    assert view.version == version
    view.comp(0).set("HH_gNa", 0.2)
    assert cell.version == view.version == version + 1
    cell.set("HH_gK", 0.03)
    assert view.version == version + 2


def test_data_set_is_not_a_mutation_and_compiles_its_values():
    cell = _cell()
    sim = jx.compile(cell, delta_t=DT)
    version = cell.version
    pstate = cell.branch(1).data_set("HH_gNa", 0.3)
    assert cell.version == version
    got = np.asarray(jx.integrate(cell, param_state=pstate, t_max=T_MAX, delta_t=DT))
    fresh = _cell()
    fresh.branch(1).set("HH_gNa", 0.3)
    np.testing.assert_allclose(got, _run(fresh), rtol=0, atol=1e-12)
    assert jx.compile(cell, delta_t=DT) is sim


def test_morph_delete_leaves_the_original_and_its_cache():
    cell = _cell()
    cell.delete_recordings()
    cell.delete_stimuli()
    sim = jx.compile(cell, delta_t=DT, require_recordings=False)
    small = morph_delete(cell.branch([3, 4]))
    assert jx.compile(cell, delta_t=DT, require_recordings=False) is sim
    small.branch(0).comp(0).stimulate(_pulse(), verbose=False)
    small.branch(2).comp(1).record(verbose=False)

    fresh = jx.Cell([jx.Branch(jx.Compartment(), 2)] * 3, parents=[-1, 0, 0])
    fresh.set("length", 25.0)
    fresh.insert(HH())
    fresh.init_states()
    fresh.branch(0).comp(0).stimulate(_pulse(), verbose=False)
    fresh.branch(2).comp(1).record(verbose=False)
    np.testing.assert_allclose(_run(small), _run(fresh), rtol=0, atol=1e-12)


def _constructed():
    """One module from every construction path."""
    from dendrax.io.graph import from_graph, to_graph
    from dendrax.morphology import morph_connect

    branch = jx.Branch(jx.Compartment(), 3)
    cell = jx.Cell(branch, parents=[-1, 0, 0])
    out = {
        "Compartment": jx.Compartment(),
        "Branch": branch,
        "Cell": cell,
        "Network": jx.Network([cell, cell]),
        "from_graph": from_graph(to_graph(cell)),
        "morph_delete": morph_delete(cell.branch(2)),
        "morph_connect": morph_connect(cell.branch(1).loc(1.0), jx.Cell().branch(0).loc(0.0)),
        "from_tables": jx.Cell.from_tables(
            nodes=dict(cell.tables.nodes),
            branch_parents=[-1, 0, 0],
            ncomp_per_branch=[3, 3, 3],
            branch_cell=[0, 0, 0],
        ),
    }
    swc = Path("/work/shared/data/swc")
    files = sorted(swc.glob("*.swc")) if swc.is_dir() else []
    if files:
        out["read_swc"] = jx.read_swc(str(files[0]), ncomp=2)
    return out


@pytest.mark.parametrize("name", list(_constructed()))
def test_every_constructor_builds_the_same_kind_of_tables(name):
    from dendrax.modules.construct import BUILDER_STATE
    from dendrax.tables import index_columns

    module = _constructed()[name]
    optional = {"_controlled_by_param", "_exp_euler_transition", "_jit_cache"}
    assert BUILDER_STATE - optional <= set(module.__dict__)
    assert module.version == 0 and module.base is module
    tables = module.tables
    expected = index_columns(tables.ncomp_per_branch, tables.branch_cell)
    for key, column in expected.items():
        np.testing.assert_array_equal(tables.nodes[key], column)
    n_comp = int(np.sum(tables.ncomp_per_branch))
    assert all(np.shape(col) == (n_comp,) for col in tables.nodes.values())
    assert tables.frustum.shape == (n_comp,)


def test_constructed_tables_are_the_modules_own():
    from dendrax.io.graph import from_graph, to_graph

    comp = jx.Compartment()
    branch = jx.Branch(comp, 3)
    cell = jx.Cell(branch, parents=[-1, 0, 0])
    made = [
        (jx.Branch(comp, 2), comp),
        (jx.Cell(branch, parents=[-1, 0]), branch),
        (jx.Network([cell, cell]), cell),
        (from_graph(to_graph(cell)), cell),
        (morph_delete(cell.branch(2)), cell),
        (jx.Cell.from_tables(like=cell, **_table_args(cell)), cell),
    ]
    for module, source in made:
        module.set("v", -12.0)
        module.set("radius", 3.0)
        assert np.all(source.tables.nodes["v"] == -70.0)
        assert np.all(source.tables.nodes["radius"] == 1.0)
        assert np.all(module.tables.nodes["v"] == -12.0)


def _table_args(module):
    t = module.tables
    return {
        "nodes": dict(t.nodes),
        "branch_parents": t.branch_parents,
        "ncomp_per_branch": t.ncomp_per_branch,
        "branch_cell": t.branch_cell,
        "xyzr": list(t.xyzr),
        "frustum": t.frustum,
    }
