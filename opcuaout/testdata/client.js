// An independent OPC UA client (node-opcua, from the npm registry) for
// opcuaout's tests: it reads what a PLC would, asks about one strip by
// calling SteelInspect.GetResult, and tries writes the server must refuse.
// Usage: node client.js ENDPOINT RESULT_ID; prints one JSON object.
const { OPCUAClient, AttributeIds, MessageSecurityMode, SecurityPolicy, DataType } = require("node-opcua-client");

(async () => {
  const [endpoint, resultId] = process.argv.slice(2);
  const client = OPCUAClient.create({
    endpointMustExist: false,
    securityMode: MessageSecurityMode.None,
    securityPolicy: SecurityPolicy.None,
    connectionStrategy: { maxRetry: 3, initialDelay: 200 },
  });
  await client.connect(endpoint);
  const session = await client.createSession();
  const nsArray = await session.readNamespaceArray();
  const ns = nsArray.indexOf("urn:steelinspect");
  const id = (name) => `ns=${ns};s=SteelInspect${name ? "." + name : ""}`;
  const read = async (name) => {
    const dv = await session.read({ nodeId: id(name), attributeId: AttributeIds.Value });
    const v = dv.value.value;
    return v instanceof Date ? v.toISOString() : v;
  };
  const names = ["SystemState", "Station", "LastResult.ResultId", "LastResult.CreationTime", "LastResult.ResultState",
    "LastResult.Decision", "LastResult.DecisionCode", "LastResult.DefectScore", "LastResult.Reason", "LastResult.Path",
    "LastResult.RecipeId", "Counters.Pass", "Counters.Review", "Counters.Reject", "Counters.Total"];
  const out = { namespace: ns, values: {}, call: {}, refused: {} };
  for (const n of names) out.values[n] = await read(n);
  // browse from the standard Objects folder finds the station
  const objects = await session.browse("ns=0;i=85");
  out.objects = objects.references.map((r) => r.browseName.name);
  // ask about one strip
  const call = (arg) => session.call({ objectId: id(""), methodId: id("GetResult"), inputArguments: [arg] });
  const r = await call({ dataType: DataType.String, value: resultId });
  out.call.status = r.statusCode.name;
  const outputs = ["Found", "ResultId", "Decision", "DecisionCode", "CreationTime", "DefectScore", "Reason", "Path", "RecipeId"];
  (r.outputArguments || []).forEach((v, i) => { out.call[outputs[i]] = v.value; });
  const unknown = await call({ dataType: DataType.String, value: "no such strip" });
  out.call.unknownFound = unknown.outputArguments[0].value;
  const wrong = await call({ dataType: DataType.Int32, value: 7 });
  out.call.wrongType = wrong.statusCode.name;
  out.call.wrongTypeArg = wrong.inputArgumentResults[0].name;
  // writes the server must refuse
  const write = async (nodeId, value) => (await session.write({ nodeId, attributeId: AttributeIds.Value, value: { value } })).name;
  out.refused.decision = await write(id("LastResult.Decision"), { dataType: DataType.String, value: "PASS" });
  out.refused.decisionAfter = await read("LastResult.Decision");
  out.refused.unknownNamespace = await write("ns=9;s=Nothing", { dataType: DataType.String, value: "x" });
  out.refused.method = await write(id("GetResult"), { dataType: DataType.String, value: "x" });
  out.stateAfter = await read("SystemState");
  console.log("RESULT " + JSON.stringify(out)); // node-opcua logs to stdout too
  await session.close();
  await client.disconnect();
})().catch((e) => { console.error("client: " + e.message); process.exit(1); });
