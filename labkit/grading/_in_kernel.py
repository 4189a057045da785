"""The grading cell: runs INSIDE a submission's kernel, after the learner's notebook ran.

The grader never imports this module to run it: it sends this file's text (read when labkit.grading was
imported, with ``labkit/exercises/_base.py`` and ``_guard.py``) as one extra cell, which compiles it in a
namespace of its own (not the learner's globals) and calls :func:`main`. It loads *fresh* copies of the
answer-running code from that text, so a notebook that replaced ``check``, ``labkit.exercises`` or
``run_function`` in its kernel changes nothing here. It computes no verdict and holds no expected answer:
for each exercise it finds the learner's answer by name, converts a value or choice strictly to plain data,
runs a function on the cases the grader drew (in a forked child, with the own-work tripwires), and prints
plain JSON between two markers carrying the run's nonce. The grader (another process) decides.
"""


def main(user_ns, request, base_src, guard_src):
    import json
    import os
    import sys
    import types

    nonce = request["nonce"]
    package = "_labkit_grader_" + nonce
    pkg = types.ModuleType(package)
    pkg.__path__ = []
    pkg.__package__ = package
    sys.modules[package] = pkg
    fresh = {}
    for name, src in (("_base", base_src), ("_guard", guard_src)):
        module = types.ModuleType(package + "." + name)
        module.__package__ = package
        sys.modules[module.__name__] = module
        exec(compile(src, "<labkit grader: " + name + ">", "exec"), module.__dict__)
        setattr(pkg, name, module)
        fresh[name] = module
    guard, base = fresh["_guard"], fresh["_base"]

    labkit_dir = request["labkit_dir"]
    environment = {}
    try:
        import labkit
        import labkit.exercises as exercises
        where = os.path.realpath(getattr(labkit, "__file__", "") or "")
        environment["labkit_file"] = where
        genuine_labkit = where.startswith(labkit_dir + os.sep)
    except BaseException as e:
        exercises, genuine_labkit = None, False
        environment["labkit_error"] = type(e).__name__

    def genuine(obj):
        if type(obj) is types.FunctionType:
            filename = os.path.realpath(obj.__code__.co_filename)
            return filename.startswith(labkit_dir + os.sep)
        if type(obj) is type:
            return (obj.__module__ or "").startswith("labkit.")
        return False

    def forbidden_table(spec):
        replaced = [] if genuine_labkit else ["labkit (the notebook imported another one)"]
        reference = None
        try:
            reference = exercises.get(spec["id"]).reference
        except BaseException:
            pass
        if reference is None or not genuine(reference):
            replaced.append("the exercise's reference")
        for name in spec["teaches"]:
            try:
                if not genuine(guard._resolve_dotted(name)):
                    replaced.append(name)
            except BaseException:
                replaced.append(name)
        holder = types.SimpleNamespace(teaches=tuple(spec["teaches"]), reference=reference)
        return guard.forbidden(holder), replaced

    def decode(value):
        if type(value) is dict and "nd" in value:
            import numpy
            return numpy.array(value["nd"], dtype=value["dtype"])
        if type(value) is dict and "tuple" in value:
            return tuple(decode(v) for v in value["tuple"])
        return value

    def one(spec):
        name = None
        for candidate in spec["names"]:
            if candidate in user_ns:
                name = candidate
                break
        if name is None:
            return {"kind": "missing"}
        answer = user_ns[name]
        if answer is Ellipsis or answer is None:
            return {"kind": "ellipsis", "name": name}
        if spec["kind"] == "function":
            if not callable(answer):
                return {"kind": "not_callable", "name": name, "describe": base._safe_describe(answer)}
            forbid, replaced = forbidden_table(spec)
            if replaced:
                return {"kind": "replaced", "name": name, "what": replaced}
            hit = guard.direct_violation(answer, forbid)
            if hit is not None:
                return {"kind": "forbidden", "name": name, "what": hit}
            inputs = [tuple(decode(v) for v in case) for case in spec["cases"]]
            run = guard.run_function(answer, inputs, spec["timeout"], spec["total_timeout"], forbid)
            return {"kind": "run", "name": name, "outcomes": [list(o) for o in run.outcomes],
                    "stop": list(run.stop) if run.stop is not None else None,
                    "printed": run.printed, "head": run.head}
        plain = guard.plain_answer(answer)
        if plain is guard.NOT_PLAIN:
            return {"kind": "not_plain", "name": name, "describe": base._safe_describe(answer)}
        return {"kind": "plain", "name": name, "value": plain}

    results = {}
    for spec in request["exercises"]:
        try:
            results[spec["id"]] = one(spec)
        except BaseException as e:   # one exercise's trouble never hides the others
            try:
                detail = type(e).__name__ + ": " + str(e)[:200]
            except BaseException:
                detail = "an error"
            results[spec["id"]] = {"kind": "grader_error", "detail": detail}
    text = json.dumps({"nonce": nonce, "results": results, "environment": environment}, allow_nan=True)
    out = sys.stdout
    out.write("\n" + request["begin"] + "\n" + text + "\n" + request["end"] + "\n")
    out.flush()
