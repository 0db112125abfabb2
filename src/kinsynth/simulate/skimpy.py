"""Reading a SKiMpy kinetic-model YAML into Antimony that libroadrunner runs (no SKiMpy install).

SKiMpy (EPFL-LCSB/skimpy) writes a model as YAML: reactants, boundary conditions (constant
concentrations), compartments, parameters, and per reaction a mechanism class with its reactants
and small-molecule modifiers. The rate laws below are re-expressed from SKiMpy's definitions for its
``QSSA`` simulation type (``get_qssa_rate_expression`` of each mechanism in ``skimpy/mechanisms/``
and ``modifier`` of the small-molecule modifiers in ``skimpy/core/modifiers.py``), keeping their
quirks, because a converted model must give SKiMpy's numbers, not the textbook's:

- every mechanism yields a forward and a backward rate, ``v_net = v_fwd - v_bwd``;
- a modifier multiplies ``v_fwd`` or ``v_bwd`` and adds its small molecule to the mass balance with
  its own stoichiometry (replacing, as SKiMpy does, any entry of the mechanism for that species);
- a species's mass balance is multiplied by ``cell_volume_<c> / volume_<c>`` of its compartment;
- species under a ``ConstantConcentration`` boundary condition are constants.

Parameter names follow SKiMpy's ``<parameter>_<reaction>`` (e.g. ``vmax_forward_Enzyme_G``), so a
range table names them as the YAML does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kinsynth.core.yamlfile import read_yaml
from kinsynth.simulate.errors import SimulationError

Rates = tuple[str, str]  # (forward, backward) rate expressions in Antimony syntax


@dataclass
class Reaction:
    """One reaction as read from the YAML: what its rate law needs to be written."""

    name: str
    mechanism: str
    roles: dict[str, str]  # role in the mechanism (substrate1, product, ...) -> species id
    stoichiometry: dict[str, float]  # role -> stoichiometric coefficient
    modifiers: list[dict] = field(default_factory=list)


class _Writer:
    """Builds one reaction's rate expressions, checking that each parameter it uses is known."""

    def __init__(self, reaction: Reaction, parameters: Mapping[str, float], origin: str) -> None:
        self.reaction = reaction
        self.parameters = parameters
        self.origin = origin

    def p(self, kind: str) -> str:
        """The global id of the reaction's parameter ``kind`` (e.g. ``km_substrate1``)."""
        pid = sbml_id(f"{kind}_{self.reaction.name}")
        if self.parameters.get(pid) is None:
            raise SimulationError(
                f"{self.origin}: reaction {self.reaction.name} ({self.reaction.mechanism}) needs "
                f"parameter {pid}, which the YAML's 'parameters' lacks or leaves null"
            )
        return pid

    def s(self, role: str) -> str:
        try:
            return sbml_id(self.reaction.roles[role])
        except KeyError:
            raise SimulationError(
                f"{self.origin}: reaction {self.reaction.name} ({self.reaction.mechanism}) "
                f"names no {role}"
            ) from None

    def roles(self, prefix: str) -> list[str]:
        """The mechanism's substrate (or product) roles in their numbered order."""
        found = [r for r in self.reaction.roles if re.fullmatch(prefix + r"\d*", r)]
        return sorted(found, key=lambda r: int(r[len(prefix):] or 0))


def sbml_id(name: str) -> str:
    """An SBML-safe id for a SKiMpy name: other characters become ``_`` (``D-LACt2pp``)."""
    out = re.sub(r"\W", "_", str(name))
    return out if re.match(r"[A-Za-z_]", out) else "_" + out


def _num(value: float) -> str:
    return repr(float(value))


def _reversible_mm(w: _Writer) -> Rates:
    s, p = w.s("substrate"), w.s("product")
    kms, kmp, keq, vmax = w.p("km_substrate"), w.p("km_product"), w.p("k_equilibrium"), \
        w.p("vmax_forward")
    den = f"(1 + {s}/{kms} + {p}/{kmp})"
    return f"{vmax}*{s}/{kms}/{den}", f"{vmax}/{keq}*{p}/{kms}/{den}"


def _irreversible_mm(w: _Writer) -> Rates:
    # SKiMpy: vmax * prod_s (s/(s + Km_s)); the stoichiometry enters only the mass balance
    terms = [f"({w.s(r)}/({w.s(r)} + {w.p('km_' + r)}))" for r in w.roles("substrate")]
    return "*".join([w.p("vmax_forward"), *terms]), "0"


def _convenience(w: _Writer) -> Rates:
    vmax, keq = w.p("vmax_forward"), w.p("k_equilibrium")
    fwd, bwd = [vmax], [f"{vmax}/{keq}"]
    sub_den, prod_den = [], []
    for r in w.roles("substrate"):
        s, km, n = w.s(r), w.p("km_" + r), abs(w.reaction.stoichiometry[r])
        sub_den.append("(1" + "".join(f" + ({s}/{km})^{a + 1}" for a in range(int(n))) + ")")
        fwd.append(f"({s}/{km})^{_num(n)}")
        bwd.append(f"{km}^({_num(-n)})")
    for r in w.roles("product"):
        p, km, n = w.s(r), w.p("km_" + r), abs(w.reaction.stoichiometry[r])
        prod_den.append("(1" + "".join(f" + ({p}/{km})^{b + 1}" for b in range(int(n))) + ")")
        bwd.append(f"{p}^{_num(n)}")
    den = f"({'*'.join(sub_den or ['1'])} + {'*'.join(prod_den or ['1'])} - 1)"
    return f"{'*'.join(fwd)}/{den}", f"{'*'.join(bwd)}/{den}"


def _h1_hill(w: _Writer) -> Rates:
    # SKiMpy's H1GeneralizedReversibleHill: Hill coefficient fixed at 1; substrate i is paired
    # with product i in the denominator (pairs up to the shorter list); stoichiometry is ignored
    vmax, keq = w.p("vmax_forward"), w.p("k_equilibrium")
    subs, prods = w.roles("substrate"), w.roles("product")
    fwd = [vmax] + [f"{w.s(r)}/{w.p('km_' + r)}" for r in subs]
    bwd = [f"{vmax}/{keq}"] + [f"{w.p('km_' + r)}^(-1)" for r in subs] + [w.s(r) for r in prods]
    den = [f"(1 + {w.s(p)}/{w.p('km_' + p)} + {w.s(s)}/{w.p('km_' + s)})"
           for s, p in zip(subs, prods, strict=False)] or ["1"]
    return f"{'*'.join(fwd)}/({'*'.join(den)})", f"{'*'.join(bwd)}/({'*'.join(den)})"


def _hill_terms(x: str, kx: str, y1: str, k1: str, y2: str, k2: str, h: str,
                substrate_first: bool) -> tuple[str, str]:
    """SKiMpy's reversible Hill with one species (x) on one side and two (y1, y2) on the other:
    (hill effect, denominator). The denominator's last term is SKiMpy's ``2*x/kx**h`` (the power
    binds to kx alone). Sums are written substrate side first, as SKiMpy writes them."""

    def plus(lone: str, other: str) -> str:
        return f"({lone} + {other})" if substrate_first else f"({other} + {lone})"

    lone, pair = f"{x}/{kx}", f"{y1}/{k1}*{y2}/{k2}"
    effect = f"{plus(lone, pair)}^({h} - 1)"
    den = (f"(1 + {plus(lone, y1 + '/' + k1)}^{h} + {plus(lone, y2 + '/' + k2)}^{h}"
           f" + {plus(lone, pair)}^{h} - 2*{x}/{kx}^{h})")
    return effect, den


def _uni_bi_hill(w: _Writer) -> Rates:
    s, p1, p2 = w.s("substrate"), w.s("product1"), w.s("product2")
    kms = w.p("km_substrate")
    vmax, keq, h = w.p("vmax_forward"), w.p("k_equilibrium"), w.p("hill_coefficient")
    effect, den = _hill_terms(s, kms, p1, w.p("km_product1"), p2, w.p("km_product2"), h,
                              substrate_first=True)
    return (f"{vmax}*{s}/{kms}*{effect}/{den}",
            f"{vmax}/({keq}*{kms})*{p1}*{p2}*{effect}/{den}")


def _bi_uni_hill(w: _Writer) -> Rates:
    s1, s2, p = w.s("substrate1"), w.s("substrate2"), w.s("product")
    k1, k2 = w.p("km_substrate1"), w.p("km_substrate2")
    vmax, keq, h = w.p("vmax_forward"), w.p("k_equilibrium"), w.p("hill_coefficient")
    effect, den = _hill_terms(p, w.p("km_product"), s1, k1, s2, k2, h, substrate_first=False)
    return (f"{vmax}*{s1}/{k1}*{s2}/{k2}*{effect}/{den}",
            f"{vmax}/({keq}*{k1}*{k2})*{p}*{effect}/{den}")


#: mechanism class -> (rate-law writer, default stoichiometry of a fixed-arity class)
MECHANISMS: dict[str, tuple[Callable[[_Writer], Rates], dict[str, float] | None]] = {
    "ReversibleMichaelisMenten": (_reversible_mm, {"substrate": -1.0, "product": 1.0}),
    "IrrevMichaelisMenten": (_irreversible_mm, None),
    "Convenience": (_convenience, None),
    "H1GeneralizedReversibleHill": (_h1_hill, None),
    "UniBiReversibleHill": (_uni_bi_hill, {"substrate": -1.0, "product1": 1.0, "product2": 1.0}),
    "BiUniReversibleHill": (_bi_uni_hill, {"substrate1": -1.0, "substrate2": -1.0,
                                           "product": 1.0}),
}

MODIFIERS = ("DisplacementSmallMoleculeModifier", "FirstOrderSmallMoleculeModifier")


def _apply_modifier(mod: dict, fwd: str, bwd: str) -> tuple[str, str, str, float]:
    """(forward, backward, small molecule, its stoichiometry) after one small-molecule modifier."""
    sm = sbml_id(mod["small_molecule"])
    stoich = mod.get("mechanism_stoichiometry", 1.0)
    n = float(stoich["small_molecule"] if isinstance(stoich, Mapping) else stoich)
    # a zero rate stays zero, as in SKiMpy's symbolic algebra (an irreversible law's v_bwd is 0; a
    # numeric 0 * h^54927 would be 0 * inf = NaN)
    if mod["class"] == "DisplacementSmallMoleculeModifier" and bwd != "0":
        bwd = f"({bwd})*{sm}^{_num(n)}"
    elif mod["class"] == "FirstOrderSmallMoleculeModifier" and n < 0 and fwd != "0":
        fwd = f"({fwd})*{sm}^{_num(-n)}"
    elif mod["class"] == "FirstOrderSmallMoleculeModifier" and n > 0 and bwd != "0":
        bwd = f"({bwd})*{sm}^{_num(n)}"
    return fwd, bwd, sm, n


def _reactions(doc: dict, origin: str) -> list[Reaction]:
    out = []
    for name, entry in (doc.get("reactions") or {}).items():
        mech = entry.get("mechanism") or {}
        cls = str(mech.get("class"))
        if cls not in MECHANISMS:
            raise SimulationError(
                f"{origin}: reaction {name} uses mechanism {cls}, which kinsynth does not know "
                f"(supported: {', '.join(MECHANISMS)})"
            )
        roles = {k: str(v) for k, v in mech.items()
                 if k.startswith(("substrate", "product")) and isinstance(v, str)}
        stoich = mech.get("mechanism_stoichiometry") or MECHANISMS[cls][1]
        if stoich is None:
            raise SimulationError(f"{origin}: reaction {name} ({cls}) has no "
                                  f"mechanism_stoichiometry")
        modifiers = list((entry.get("modifiers") or {}).values())
        for mod in modifiers:
            if mod.get("class") not in MODIFIERS:
                raise SimulationError(
                    f"{origin}: reaction {name} uses modifier {mod.get('class')}, which kinsynth "
                    f"does not know (supported: {', '.join(MODIFIERS)})"
                )
        out.append(Reaction(str(name), cls, roles, {k: float(v) for k, v in stoich.items()},
                            modifiers))
    if not out:
        raise SimulationError(f"{origin}: the YAML holds no reactions")
    return out


def _volume_ratio(doc: dict, reactants: Mapping[str, dict], parameters: Mapping[str, float],
                  species: str) -> float:
    comp = (reactants.get(species) or {}).get("compartment")
    if comp is None or not doc.get("compartments"):
        return 1.0
    cell = parameters.get(f"cell_volume_{comp}", 1.0)
    volume = parameters.get(f"volume_{comp}", 1.0)
    return float(cell) / float(volume)


#: the sections of a SKiMpy model, each a mapping (or absent)
SECTIONS = ("reactions", "parameters", "reactants", "boundary_conditions", "initial_conditions",
            "compartments")


def _check_shape(doc: dict, origin: str) -> None:
    """One line naming the first entry of the wrong shape: the converter can then index freely.

    SKiMpy writes sections of mappings, numbers for parameters and initial conditions, and per
    reaction a ``mechanism`` mapping and ``modifiers`` of mappings naming a ``small_molecule``.
    """
    def expect(value: object, kind: type | tuple[type, ...], where: str, wanted: str) -> None:
        if not isinstance(value, kind) or isinstance(value, bool):
            shown = repr(value)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            raise SimulationError(f"{origin}: {where} is {shown}, expected {wanted}")

    for section in SECTIONS:
        if doc.get(section) is not None:
            expect(doc[section], dict, f"'{section}'", "a mapping")
    for section in ("parameters", "initial_conditions"):
        for key, value in (doc.get(section) or {}).items():
            if value is not None:
                expect(value, (int, float), f"{section} {key}", "a number")
    for section in ("reactants", "boundary_conditions"):
        for key, value in (doc.get(section) or {}).items():
            if value is not None or section == "boundary_conditions":
                expect(value, dict, f"{section} {key}", "a mapping")
    for key, bc in (doc.get("boundary_conditions") or {}).items():
        if bc.get("class") == "ConstantConcentration" and "reactant" not in bc:
            raise SimulationError(f"{origin}: boundary condition {key} names no 'reactant'")
    for name, entry in (doc.get("reactions") or {}).items():
        expect(entry, dict, f"reaction {name}", "a mapping")
        expect(entry.get("mechanism"), dict, f"reaction {name}'s mechanism",
               "a mapping with a 'class'")
        stoich = entry["mechanism"].get("mechanism_stoichiometry")
        if stoich is not None:
            expect(stoich, dict, f"reaction {name}'s mechanism_stoichiometry", "a mapping")
            for role, value in stoich.items():
                expect(value, (int, float), f"reaction {name}'s stoichiometry of {role}",
                       "a number")
        modifiers = entry.get("modifiers")
        if modifiers is not None:
            expect(modifiers, dict, f"reaction {name}'s modifiers", "a mapping")
            for key, mod in modifiers.items():
                expect(mod, dict, f"reaction {name}'s modifier {key}", "a mapping")
                if mod.get("small_molecule") is None:
                    raise SimulationError(
                        f"{origin}: reaction {name}'s modifier {key} names no 'small_molecule'")
                n = mod.get("mechanism_stoichiometry", 1.0)
                n = n.get("small_molecule") if isinstance(n, dict) else n
                expect(n, (int, float), f"reaction {name}'s modifier {key} stoichiometry",
                       "a number")


def skimpy_to_antimony(doc: dict, origin: str = "SKiMpy model") -> str:
    """Antimony text of a SKiMpy model read from YAML (the mapping a YAML loader returns)."""
    if not isinstance(doc, dict) or "reactions" not in doc:
        raise SimulationError(f"{origin}: expected a SKiMpy model with a 'reactions' section")
    _check_shape(doc, origin)
    parameters = {sbml_id(k): v for k, v in (doc.get("parameters") or {}).items()}
    reactants = {sbml_id(k): v or {} for k, v in (doc.get("reactants") or {}).items()}
    constant = {sbml_id(b["reactant"]) for b in (doc.get("boundary_conditions") or {}).values()
                if b.get("class") == "ConstantConcentration"}
    unknown_bc = [b.get("class") for b in (doc.get("boundary_conditions") or {}).values()
                  if b.get("class") != "ConstantConcentration"]
    if unknown_bc:
        raise SimulationError(f"{origin}: boundary condition {unknown_bc[0]} is not supported "
                              f"(only ConstantConcentration)")
    initial = {sbml_id(k): v for k, v in (doc.get("initial_conditions") or {}).items()}
    lines = [f"// Converted from a SKiMpy model ({Path(origin).name}) by kinsynth.simulate.skimpy",
             "model skimpy_model()"]
    species: set[str] = set()
    for reaction in _reactions(doc, origin):
        writer = _Writer(reaction, parameters, origin)
        fwd, bwd = MECHANISMS[reaction.mechanism][0](writer)
        balance: dict[str, float] = {}
        for role, coeff in reaction.stoichiometry.items():
            sid = writer.s(role)
            balance[sid] = balance.get(sid, 0.0) + coeff
        for mod in reaction.modifiers:
            fwd, bwd, sm, n = _apply_modifier(mod, fwd, bwd)
            if n != 0:
                balance[sbml_id(sm)] = n  # SKiMpy replaces the species' entry with the modifier's
        species.update(balance)
        species.update(sbml_id(m["small_molecule"]) for m in reaction.modifiers)

        def side(sign: int, balance: dict[str, float] = balance) -> str:
            terms = []
            for sid, coeff in balance.items():
                scaled = coeff * _volume_ratio(doc, reactants, parameters, sid)
                if scaled * sign > 0:
                    terms.append(f"{_num(abs(scaled))} {'$' if sid in constant else ''}{sid}")
            return " + ".join(terms)

        rate = f"{fwd}" if bwd == "0" else f"({fwd}) - ({bwd})"
        lines.append(f"  {sbml_id(reaction.name)}: {side(-1)} -> {side(1)}; {rate};")
    for sid in sorted(species):
        comp = sbml_id(reactants.get(sid, {}).get("compartment", "c"))
        value = parameters.get(sid) if sid in constant else None
        value = initial.get(sid) if value is None else value
        if value is None or not math.isfinite(float(value)):
            raise SimulationError(f"{origin}: species {sid} has no initial condition")
        lines.append(f"  species {'$' if sid in constant else ''}{sid} in {comp} = {_num(value)};")
    comps = {sbml_id(reactants.get(s, {}).get("compartment", "c")) for s in species}
    lines += [f"  compartment {c} = 1;" for c in sorted(comps)]
    for pid, value in sorted(parameters.items()):
        if value is None or pid in species or pid in comps:
            continue
        lines.append(f"  {pid} = {_num(value)};")
    lines.append("end")
    return "\n".join(lines) + "\n"


def read_skimpy(path: str | Path) -> str:
    """Antimony text of the SKiMpy YAML at ``path``; a bad file is one line naming it."""
    doc = read_yaml(path, "model_file", error=SimulationError)
    return skimpy_to_antimony(doc, str(path))


def convert(source: str | Path, target: str | Path, header: str = "") -> Path:
    """Write the Antimony conversion of the SKiMpy YAML ``source`` to ``target`` (new file only).

    ``header`` (e.g. the upstream licence notice) is written first, as ``//`` comment lines.
    """
    target = Path(target)
    if target.exists():
        raise SimulationError(f"{target} exists; not overwriting it")
    comment = "".join(f"// {line}".rstrip() + "\n" for line in header.splitlines())
    target.write_text(comment + read_skimpy(source))
    return target


if __name__ == "__main__":  # python -m kinsynth.simulate.skimpy MODEL.yml OUT.ant [NOTICE_FILE]
    import sys

    args = sys.argv[1:]
    if len(args) not in (2, 3):
        sys.exit("usage: python -m kinsynth.simulate.skimpy MODEL.yml OUT.ant [NOTICE_FILE]")
    try:
        notice = Path(args[2]).read_text() if len(args) == 3 else ""
        print(convert(args[0], args[1], notice))
    except (SimulationError, OSError) as exc:
        sys.exit(f"error: {exc}")
