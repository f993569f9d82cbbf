"""The engine: the replay of one visit (:func:`replay_visit`). ``_Run`` runs the state's
data-flow steps as :mod:`sfn_trace.asl.dataflow` lists them for its type and query language
(``_Steps``), then judges what it computed against what the history recorded: the output or
the error, the assigned variables, a Task's parameters, each iteration's and branch's input.
:mod:`sfn_trace.asl.replay` replays every visit of an execution with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sfn_trace.asl import jsonata_eval
from sfn_trace.asl.aws_checks import (
    AFTER_ITEMS,
    BEFORE_ITEMS,
    MAX_ITEMS,
    MapSetting,
    check_map_expression,
    check_map_path,
    check_wait,
    check_wait_timestamp,
)
from sfn_trace.asl.budgets import OverBudget
from sfn_trace.asl.choice import matched_rule
from sfn_trace.asl.context import visit_context
from sfn_trace.asl.dataflow import DataStep, Kind, Reads, catch_step, choice_source, steps_of
from sfn_trace.asl.failures import error_matches, failure_event
from sfn_trace.asl.intrinsics import evaluate_intrinsic, is_intrinsic
from sfn_trace.asl.jsoncompare import first_difference, same_cause, same_json
from sfn_trace.asl.jsonpath import (
    Roots,
    StatesError,
    StatesRuntime,
    Unreplayable,
    Unsupported,
    apply_result_path,
    compact,
    first_unknown,
    format_path,
    read_parameter,
    select,
    value_at,
)
from sfn_trace.asl.maps import is_distributed
from sfn_trace.asl.templates import computed_locations, render_template
from sfn_trace.asl.variables import decode_variables
from sfn_trace.model.definition import Definition
from sfn_trace.model.events import NOT_JSON
from sfn_trace.model.replay import Failure, Fault, Replay, ReplayStatus, Step
from sfn_trace.model.text import quote
from sfn_trace.model.visits import Flow, FlowKind, Outcome, Visit

__all__ = ["replay_visit"]


def replay_visit(
    visit: Visit,
    definition: Definition,
    context: Mapping[str, Any],
    variables: Mapping[str, Any],
    next_state: str | None,
) -> Replay:
    """One visit replayed, before :func:`sfn_trace.asl.replay.replay_visits` attributes the
    faults. A pure function of its arguments: the visit, the definition, the execution's
    context object (:func:`sfn_trace.asl.context.execution_context`), the variables in scope
    at its entry and the state it went to next in its flow (None: none)."""
    run = _Run(visit, definition, context, variables, next_state)
    run.execute()
    return run.result()


class _Verdict(Exception):
    """Ends a replay early with a status, who is at fault (None: a difference whose fault
    :func:`sfn_trace.asl.replay.replay_visits` decides from the evidence) and what happened."""

    def __init__(self, status: ReplayStatus, fault: Fault | None, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.fault = fault
        self.detail = detail


def _drift(detail: str) -> _Verdict:
    """The history shows the definition is not the one that ran."""
    return _Verdict(ReplayStatus.MISMATCH, Fault.DEFINITION, detail)


def _differs(detail: str) -> _Verdict:
    """The replay ran and differs from the recording (``detail`` names the step and the
    first JSON path where they differ)."""
    return _Verdict(ReplayStatus.MISMATCH, None, detail)


def _lacks(detail: str) -> _Verdict:
    """The history does not hold what the replay needs."""
    return _Verdict(ReplayStatus.NOT_REPLAYED, Fault.HISTORY, detail)


_UNFINISHED = {
    Outcome.ABORTED: "the visit was aborted: there is no output to compare",
    Outcome.RUNNING: "the visit has no end in the history: there is no output to compare",
}


class _Run:
    """The replay of one visit: runs the state's steps, then judges the outcome."""

    def __init__(
        self,
        visit: Visit,
        definition: Definition,
        execution_context: Mapping[str, Any],
        variables: Mapping[str, Any],
        next_state: str | None,
    ) -> None:
        self.visit = visit
        self.execution_context = execution_context
        self.next_state = next_state
        state = definition.state(visit.state)
        self.state = state
        self.body: Mapping[str, Any] = state.body if state else {}
        self.steps: list[Step] = []
        self.failure: Failure | None = None
        self.caught: Failure | None = None
        self.assigned: Mapping[str, Any] | None = None
        self.variables = variables
        self.input: Any = None
        self.status = ReplayStatus.NOT_REPLAYED
        self.fault: Fault | None = None
        self.reason: str | None = None
        self.prefix = (
            f"An error occurred while executing the state '{visit.state}' "
            f"(entered at the event id #{visit.entered.id}). "
        )
        self.context = self._context()

    def _context(self) -> dict[str, Any]:
        return visit_context(self.visit, self.execution_context, _resource(self.body, self.visit))

    def result(self) -> Replay:
        visit = self.visit
        return Replay(
            seq=visit.seq,
            state=visit.state,
            type=visit.type,
            query_language=self.state.query_language if self.state else "JSONPath",
            input=self.input,
            steps=tuple(self.steps),
            status=self.status,
            reason=self.reason,
            fault=self.fault,
            failure=self.failure,
            caught=self.caught,
            variables=self.variables,
            assigned=self.assigned,
            resource=_resource(self.body, visit),
        )

    # -- running

    def execute(self) -> None:
        try:
            self._run_steps()
            self.status = self._judge()
        except _Verdict as verdict:
            self.status, self.fault, self.reason = verdict.status, verdict.fault, verdict.detail
        except Unreplayable as gap:
            self.status, self.fault, self.reason = (
                ReplayStatus.NOT_REPLAYED,
                Fault.HISTORY,
                gap.reason,
            )
        except Unsupported as gap:
            self.status, self.fault = ReplayStatus.NOT_REPLAYED, Fault.SFN_TRACE
            self.reason = f"it does not evaluate {gap.feature}"
        except OverBudget as spent:  # sfn-trace's own bound (asl/budgets.py), not AWS's
            self.status, self.fault = ReplayStatus.NOT_REPLAYED, Fault.SFN_TRACE
            self.reason = spent.reason
        except RecursionError:
            self.status, self.fault = ReplayStatus.NOT_REPLAYED, Fault.SFN_TRACE
            self.reason = "a document is nested too deeply to replay"

    def _run_steps(self) -> None:
        visit, state = self.visit, self.state
        if state is None:
            raise _drift(f"the definition has no state named {quote(visit.state)}")
        if state.type != visit.type:
            raise _drift(
                f"{quote(visit.state)} is a {quote(state.type)} in the definition, "
                f"a {quote(visit.type)} ran"
            )
        payload = visit.input
        if payload is None or payload.truncated or payload.value is NOT_JSON:
            raise _lacks("the visit's input is not recorded")
        self.input = payload.value
        try:
            _Steps(self).execute()
        except StatesError as error:
            self.failure = Failure(error.error, self._cause(error))

    def _cause(self, error: StatesError) -> str:
        """AWS prefixes the cause of ``States.Runtime`` and evaluation errors with the state."""
        if error.error == "States.Runtime" and not error.cause.startswith("An error occurred"):
            return self.prefix + error.cause
        return error.cause

    def add(self, name: str, expression: Any, value: Any, **flags: bool) -> Any:
        self.steps.append(Step(name, expression, value, **flags))
        return value

    def roots(self, document: Any, context: Any = None) -> Roots:
        return Roots(document, self.context if context is None else context, self.variables)

    # -- judging

    def _judge(self) -> ReplayStatus:
        visit = self.visit
        if not visit.exited and visit.outcome in _UNFINISHED:
            raise _lacks(_UNFINISHED[visit.outcome])
        if self.failure is not None:
            self._judge_failure(self.failure)
        else:
            self._judge_output()
        self._judge_assignments()
        return ReplayStatus.MATCH

    def _judge_failure(self, failure: Failure) -> None:
        visit = self.visit
        if visit.exited or visit.outcome is not Outcome.FAILED:
            raise _differs(
                f"the replay fails with {failure.error} ({failure.cause}) {self._where()}, "
                f"but the visit {visit.outcome.value}"
            )
        if failure.error != (visit.error or ""):
            raise _differs(
                f"the replay fails with {failure.error} {self._where()}, the visit failed "
                f"with {visit.error}"
            )
        # An empty replayed cause is one whose text AWS's documentation does not give.
        if visit.cause and failure.cause and not same_cause(failure.cause, visit.cause):
            raise _differs(
                f"the replay fails with {failure.error} as recorded, but with the cause "
                f"{failure.cause!r}"
            )

    def _where(self) -> str:
        """The step the replay was at when it failed."""
        return f"after {self.steps[-1].name}" if self.steps else "before its first step"

    def _judge_output(self) -> None:
        visit = self.visit
        if not visit.exited:
            raise _differs(
                f"the replay produced an output, but the visit failed with {visit.error}"
            )
        recorded = visit.output
        if recorded is None or recorded.truncated or recorded.value is NOT_JSON:
            raise _lacks("the visit's output is not recorded")
        replayed = self.steps[-1].value
        if not same_json(replayed, recorded.value):
            where = first_difference(replayed, recorded.value)
            raise _differs(
                f"the replayed output (after {self.steps[-1].name}) differs from the recorded "
                f"one at {where}"
            )

    def _judge_assignments(self) -> None:
        recorded = self.visit.variables
        if self.assigned is None or recorded is None:
            return
        values = decode_variables(recorded, self.visit.variables_truncated)
        if first_unknown(values) is not None:
            return
        names = sorted(values.keys() | self.assigned.keys())
        differing = [
            n
            for n in names
            if n not in values
            or n not in self.assigned
            or not same_json(values[n], self.assigned[n])
        ]
        if differing:
            raise _differs(
                f"Assign sets {', '.join('$' + n for n in differing)} differently than recorded"
            )

    # -- what the history holds

    def recorded_parameters(self) -> Any:
        recorded = self.visit.parameters
        if recorded is None or recorded.truncated or recorded.value is NOT_JSON:
            return _MISSING
        return recorded.value

    def sent_parameters(self, name: str, template: Any, replayed: Any) -> Any:
        """Add a Task's Parameters/Arguments step, checked against what the task was sent.

        Only the members the template *computes* (``.$`` paths and intrinsics, ``{% %}``
        expressions) must agree: integrations add members (ECS adds ``StartedBy``) and a
        deployment rewrites literals (``${AWS::Region}``), neither of which is data flow.
        When the documents differ only there, the step shows what was really sent.
        """
        recorded = self.recorded_parameters()
        if recorded is _MISSING or same_json(replayed, recorded):
            return self.add(name, template, replayed)
        for location in computed_locations(template):
            here, there = (
                value_at(replayed, location, _MISSING),
                value_at(recorded, location, _MISSING),
            )
            if there is _MISSING or not same_json(here, there):
                raise _differs(
                    f"the replayed {name} differ from the recorded parameters at "
                    f"{format_path(location)}"
                )
        return self.add(name, template, recorded, recorded=True)

    def task_result(self) -> Any:
        attempt = self.visit.attempts[-1] if self.visit.attempts else None
        if attempt is None or attempt.end is None:
            raise _lacks(_UNFINISHED.get(self.visit.outcome, "the task has no result"))
        if attempt.result is None or attempt.result.truncated or attempt.result.value is NOT_JSON:
            raise _lacks("the task result is not recorded")
        return attempt.result.value

    def failed(self) -> bool:
        """Whether the task (or an iteration or branch of a Map/Parallel) failed: then only a
        Catch can give the visit an output."""
        visit = self.visit
        if visit.type == "Task" and visit.attempts:
            return visit.attempts[-1].failed
        return visit.outcome in (Outcome.CAUGHT, Outcome.FAILED) and visit.error is not None

    def flows(self, kind: FlowKind) -> list[Flow]:
        """The iterations or branches of the last (re)try of a Map or Parallel visit."""
        visit = self.visit
        epoch = visit.attempts[-1].start.id if visit.attempts else visit.entered.id
        current = [
            f for f in visit.children if f.kind is kind and (f.start is None or f.start.id >= epoch)
        ]
        return sorted(current, key=lambda f: f.index or 0)

    # -- errors

    def catcher(self, error: str) -> Mapping[str, Any] | None:
        for catcher in self.body.get("Catch") or ():
            if not isinstance(catcher, Mapping):
                continue
            names = catcher.get("ErrorEquals")
            if isinstance(names, list) and error_matches(error, [str(n) for n in names]):
                return catcher
        return None

    def error_output(self) -> dict[str, Any]:
        """``{"Error", "Cause"}`` of the event that failed the visit: null members when that
        event has neither, an empty Cause when it has only an error (as AWS recorded)."""
        raw = failure_event(self.visit)
        if raw is None:
            return {"Error": self.visit.error, "Cause": self.visit.cause}
        error, cause = raw
        if error is None and cause is None:
            return {"Error": None, "Cause": None}
        return {"Error": error, "Cause": "" if cause is None else cause}


_MISSING = object()


class _Documents:
    """The documents of one visit's data flow as its steps make them."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.effective = raw
        self.current = raw
        self.items: list[Any] = []
        self.selected: Any = _MISSING


class _Stop(Exception):
    """A Catch took over: the remaining steps do not run."""


class _Steps:
    """Runs one visit's data flow as the table (:mod:`sfn_trace.asl.dataflow`) lists the
    steps of its state type; the query language decides how each step is written."""

    def __init__(self, run: _Run) -> None:
        self.run = run
        self.body = run.body
        self.type = run.visit.type
        self.jsonata = bool(run.state and run.state.query_language == "JSONata")
        self.choice_source: Mapping[str, Any] = run.body
        """Where a Choice takes its Output and Assign from (:func:`choice_source`)."""

    def execute(self) -> None:
        if self.type == "Fail":
            self.fail()
            return
        steps = steps_of("JSONata" if self.jsonata else "JSONPath", self.type)
        if not steps:
            raise Unsupported(f"state type {self.type}")
        documents = _Documents(self.run.input)
        if self.jsonata:
            self.entered(documents)
        try:
            for step in steps:
                _STEP_HANDLERS[step.kind](self, step, documents)
        except _Stop:
            return

    # -- checks that come with a state type, before its steps read the effective input

    def entered(self, documents: _Documents) -> None:
        """What a state checks once its effective input is known (AWS fails the state
        before it goes on)."""
        run, body, effective = self.run, self.body, documents.effective
        if self.type == "Map":
            self.map_settings(documents, BEFORE_ITEMS)
            if "ItemReader" in body:
                self.map_settings(documents, AFTER_ITEMS)  # the items are in S3: check them now
                raise Unreplayable("the Map reads its items with an ItemReader (from S3)")
        elif self.type == "Wait":
            if self.jsonata:
                for name in ("Seconds", "Timestamp"):
                    if name in body:
                        value = self.render(name, body[name], self.states(documents))
                        if name == "Timestamp" and jsonata_eval.is_expression(body[name]):
                            check_wait_timestamp(value, run.prefix)
            else:
                check_wait(body, run.roots(effective))
        if self.type == "Choice":
            rule = matched_rule(run, effective if not self.jsonata else run.input)
            self.choice_source = choice_source(body, rule)

    def map_settings(self, documents: _Documents, settings: Sequence[MapSetting]) -> None:
        """A Map's run-time settings (``MaxConcurrency``, ``ToleratedFailure*``, the item
        reader's ``MaxItems``): their ``*Path`` forms (JSONPath, over the effective input and
        the variables) or their JSONata expressions, which AWS evaluates and checks."""
        run, body = self.run, self.body
        reader = body.get("ItemReader")
        config = reader.get("ReaderConfig") if isinstance(reader, Mapping) else None
        for setting in settings:
            holder = config if setting is MAX_ITEMS else body
            if not isinstance(holder, Mapping):
                continue
            if self.jsonata:
                expression = holder.get(setting.name)
                if jsonata_eval.is_expression(expression):
                    # AWS names the field in its causes; where MaxItems sits is a guess
                    where = "ItemReader/ReaderConfig/MaxItems" if setting is MAX_ITEMS else ""
                    value = self.render(where or setting.name, expression, self.states(documents))
                    check_map_expression(setting, value)
            elif isinstance(holder.get(setting.name + "Path"), str):
                check_map_path(
                    setting,
                    holder[setting.name + "Path"],
                    run.roots(documents.effective),
                    lambda error: run.catcher(error) is not None,
                )

    # -- the kinds of step

    def path(self, step: DataStep, documents: _Documents) -> None:
        run, name = self.run, step.name
        document = documents.current
        if name not in self.body:
            value = run.add(name, "$", document, default=True)
        else:
            expression = self.body[name]
            value = run.add(name, expression, select(expression, run.roots(document)))
        if name == "InputPath":
            documents.effective = documents.current = value
            self.entered(documents)
        elif name == "ItemsPath":
            if not isinstance(value, list):
                raise StatesRuntime(f"Map state input must be an array but was: {compact(value)}")
            documents.items = value
            self.before_items(documents)
        else:
            documents.current = value

    def template(self, step: DataStep, documents: _Documents) -> None:
        name = step.name
        if name == "Output":
            self.output(documents)
            return
        if name == "ResultSelector" and self.type == "Pass":
            return
        if name not in self.body:
            if name != "ResultSelector":
                documents.current = documents.effective
            return
        template = self.body[name]
        if self.jsonata:
            value = self.render(name, template, self.states(documents))
        else:
            reads = documents.current if name == "ResultSelector" else documents.effective
            value = render_template(template, self.run.roots(reads))
        documents.current = self.run.add(name, template, value)
        if name == "ResultSelector":
            documents.selected = documents.current

    def task_input(self, step: DataStep, documents: _Documents) -> None:
        run, body, name = self.run, self.body, step.name
        if name not in body:
            return
        try:
            if self.jsonata:
                replayed = self.render(name, body[name], self.states(documents))
            else:
                replayed = render_template(body[name], run.roots(documents.effective))
        except Unreplayable:
            recorded = run.recorded_parameters()
            if recorded is _MISSING:
                raise
            run.add(name, body[name], recorded, recorded=True)
            return
        run.sent_parameters(name, body[name], replayed)

    def items(self, step: DataStep, documents: _Documents) -> None:
        run, body = self.run, self.body
        if "Items" not in body:
            if not isinstance(documents.effective, list):
                raise StatesError(
                    jsonata_eval.QUERY_EVALUATION_ERROR,
                    f"{run.prefix}Map state input must be an array but was: "
                    f"{compact(documents.effective)}",
                )
            documents.items = documents.effective
            self.before_items(documents)
            return
        items = run.add(
            "Items", body["Items"], self.render("Items", body["Items"], self.states(documents))
        )
        if not isinstance(items, list):
            text = _expression_text(body["Items"])
            raise StatesError(
                jsonata_eval.QUERY_EVALUATION_ERROR,
                f"{run.prefix}The JSONata expression '{text}' specified for the field 'Items' "
                "returned an unexpected result type. Expected 'array', but was "
                f"'{jsonata_eval.type_name(items)}' for value: {compact(items)}",
            )
        documents.items = items
        self.before_items(documents)

    def before_items(self, documents: _Documents) -> None:
        self.map_settings(documents, AFTER_ITEMS)
        if "ItemBatcher" in self.body:
            raise Unsupported("Map ItemBatcher")

    def item_template(self, step: DataStep, documents: _Documents) -> None:
        run = self.run
        name = next((n for n in step.names if n in self.body), None)
        if name is None:
            documents.current = documents.items
            return
        template = self.body[name]
        selected = []
        for index, item in enumerate(documents.items):
            context = _item_context(run, index, item)
            if self.jsonata:
                value = self.render(
                    name, template, {"input": documents.effective, "context": context}
                )
            else:
                value = render_template(template, run.roots(documents.effective, context))
            selected.append(value)
        documents.current = list(run.add(name, template, selected))

    def result(self, step: DataStep, documents: _Documents) -> None:
        run = self.run
        if self.type == "Map":
            self.check_iterations(documents)
        elif self.type == "Parallel":
            _check_flow_inputs([(flow, documents.current) for flow in run.flows(FlowKind.BRANCH)])
        if run.failed():
            self.catch(documents)
        if self.type == "Task":
            result = run.task_result()
            run.add("Result", self.body.get("Resource"), result, recorded=True)
        else:
            kind = FlowKind.ITERATION if self.type == "Map" else FlowKind.BRANCH
            flows = run.flows(kind)
            expected = len(documents.items) if self.type == "Map" else None
            if expected is not None and len(flows) != expected:
                raise _lacks(f"{len(flows)} of {expected} iterations are in the history")
            result = [_flow_output(flow) for flow in flows]
            run.add(
                "Result", "Iterations" if self.type == "Map" else "Branches", result, recorded=True
            )
        documents.current = documents.selected = result

    def check_iterations(self, documents: _Documents) -> None:
        """A Map's iterations: inline, with the inputs the item template made."""
        run, body = self.run, self.body
        if is_distributed(body) and not run.visit.children:
            raise Unreplayable("a Distributed Map's iterations run as child executions")
        selected = documents.current
        _check_flow_inputs(
            [
                (f, selected[f.index])
                for f in run.flows(FlowKind.ITERATION)
                if f.index is not None and f.index < len(selected)
            ]
        )
        if "ResultWriter" in body and not run.failed():
            raise Unreplayable("the Map writes its results to S3 (ResultWriter)")

    def literal(self, step: DataStep, documents: _Documents) -> None:
        if "Result" in self.body:
            documents.current = self.run.add("Result", self.body["Result"], self.body["Result"])
        documents.selected = documents.current

    def merge(self, step: DataStep, documents: _Documents) -> None:
        run, body = self.run, self.body
        if documents.selected is _MISSING:
            documents.selected = documents.current
        if "ResultPath" in body:
            path = body["ResultPath"]
            after = apply_result_path(path, documents.raw, documents.selected)
            documents.current = run.add("ResultPath", path, after)
        else:
            documents.current = run.add("ResultPath", "$", documents.selected, default=True)

    def assign(self, step: DataStep, documents: _Documents) -> None:
        if self.jsonata:
            return  # evaluated with Output, over the same $states
        template = self.body.get("Assign")
        document = documents.selected
        if step.reads is Reads.EFFECTIVE_INPUT:
            document = documents.effective
            if self.type == "Choice":
                template = self.choice_source.get("Assign")
        if template is not None:
            self.run.assigned = render_template(template, self.run.roots(document))

    # -- JSONata

    def states(self, documents: _Documents, **extra: Any) -> dict[str, Any]:
        states = {"input": self.run.input, "context": self.run.context, **extra}
        if documents.selected is not _MISSING:
            states["result"] = documents.selected
        return states

    def render(self, name: str, template: Any, states: Mapping[str, Any]) -> Any:
        return jsonata_eval.render(template, states, self.run.variables, name, self.run.prefix)

    def output(self, documents: _Documents) -> None:
        """``Output`` (default: the result, or the input for states without one) and
        ``Assign``, both evaluated with the variables as they were at entry."""
        run = self.run
        body = self.choice_source if self.type == "Choice" else self.body
        states = self.states(documents)
        default = documents.selected if documents.selected is not _MISSING else documents.raw
        if "Output" in body:
            run.add("Output", body["Output"], self.render("Output", body["Output"], states))
        else:
            run.add("Output", None, default, default=True)
        assign = body.get("Assign")
        if assign is not None:
            run.assigned = self.render("Assign", assign, states)

    # -- Fail and Catch

    def fail(self) -> None:
        body, run = self.body, self.run
        if self.jsonata:
            states = {"input": run.input, "context": run.context}
            error = self.render("Error", body.get("Error"), states)
            cause = self.render("Cause", body.get("Cause"), states)
        else:
            roots = run.roots(run.input)
            error = _fail_field(body, "Error", roots)
            cause = _fail_field(body, "Cause", roots)
        raise StatesError("" if error is None else str(error), "" if cause is None else str(cause))

    def catch(self, documents: _Documents) -> None:
        """A failure: the first catcher that matches makes the output of ``{"Error",
        "Cause"}``; without one the visit fails with the error
        (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html)."""
        run = self.run
        error = run.visit.error or "States.TaskFailed"
        catcher = run.catcher(error)
        if catcher is None:
            raise StatesError(error, run.visit.cause or "")
        run.caught = Failure(error, run.visit.cause)
        output = run.error_output()
        step = catch_step("JSONata" if self.jsonata else "JSONPath")
        if self.jsonata:
            states = {"input": run.input, "context": run.context, "errorOutput": output}
            name = step.name
            value = self.render(name, catcher[name], states) if name in catcher else output
            run.add("Catch", catcher, value)
            if "Assign" in catcher:
                run.assigned = self.render("Assign", catcher["Assign"], states)
        else:
            path = catcher.get(step.name, step.default)
            run.add("Catch", catcher, apply_result_path(path, documents.raw, output))
            # On Catch only the catcher's Assign runs, over the error output.
            if catcher.get("Assign") is not None:
                run.assigned = render_template(catcher["Assign"], run.roots(output))
        raise _Stop


_STEP_HANDLERS: dict[Kind, Callable[[_Steps, DataStep, _Documents], None]] = {
    Kind.PATH: _Steps.path,
    Kind.TEMPLATE: _Steps.template,
    Kind.TASK_INPUT: _Steps.task_input,
    Kind.ITEMS: _Steps.items,
    Kind.ITEM_TEMPLATE: _Steps.item_template,
    Kind.RESULT: _Steps.result,
    Kind.LITERAL: _Steps.literal,
    Kind.MERGE: _Steps.merge,
    Kind.ASSIGN: _Steps.assign,
}
"""How each kind of step of the data-flow table is run: functions of the class, not bound
methods kept on each run (those would tie every run into a reference cycle that only the
garbage collector frees)."""


def _flow_output(flow: Flow) -> Any:
    last = flow.visits[-1] if flow.visits else None
    if last is None or not last.exited or last.output is None:
        raise _lacks(f"{flow.label} has no recorded output")
    if last.output.truncated or last.output.value is NOT_JSON:
        raise _lacks(f"the output of {flow.label} is not recorded")
    return last.output.value


def _check_flow_inputs(pairs: Sequence[tuple[Flow, Any]]) -> None:
    """Each iteration's and branch's first input is recorded: it must be what was sent."""
    for flow, value in pairs:
        first = flow.visits[0] if flow.visits else None
        if first is None or first.input is None or first.input.value is NOT_JSON:
            continue
        if not same_json(value, first.input.value):
            where = first_difference(value, first.input.value)
            raise _differs(
                f"the replayed input of {flow.label} differs from the recorded one at {where}"
            )


def _fail_field(body: Mapping[str, Any], name: str, roots: Roots) -> Any:
    """A Fail state's ``Error``/``Cause``, or its ``ErrorPath``/``CausePath``."""
    path = body.get(name + "Path")
    if not isinstance(path, str):
        return body.get(name)
    if is_intrinsic(path):
        return evaluate_intrinsic(path, roots, name + "Path")
    return read_parameter(path, name + "Path", roots)


def _expression_text(value: Any) -> str:
    return jsonata_eval.expression_text(value) if isinstance(value, str) else compact(value)


def _resource(body: Mapping[str, Any], visit: Visit) -> str | None:
    resource = body.get("Resource")
    return resource if isinstance(resource, str) else visit.resource


def _item_context(run: _Run, index: int, item: Any) -> dict[str, Any]:
    return {**run.context, "Map": {"Item": {"Index": index, "Value": item}}}
