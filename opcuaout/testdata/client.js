// An independent OPC UA client (node-opcua, from the npm registry) for
// opcuaout's tests: it reads what a PLC would, asks about one strip by
// writing Query.RequestId, and tries writes the server must refuse.
// Usage: node client.js ENDPOINT REQUEST_ID; prints one JSON object.
const { OPCUAClient, AttributeIds, MessageSecurityMode, SecurityPolicy, DataType } = require("node-opcua-client");

(async () => {
  const [endpoint, requestId] = process.argv.slice(2);
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
  const id = (name) => `ns=${ns};s=SteelInspect.${name}`;
  const read = async (name) => {
    const dv = await session.read({ nodeId: id(name), attributeId: AttributeIds.Value });
    const v = dv.value.value;
    return v instanceof Date ? v.toISOString() : v;
  };
  const names = ["SystemState", "Station", "LastResult.ResultId", "LastResult.CreationTime", "LastResult.ResultState",
    "LastResult.Decision", "LastResult.DecisionCode", "LastResult.DefectScore", "LastResult.Reason", "LastResult.Path",
    "LastResult.RecipeId", "Counters.Pass", "Counters.Review", "Counters.Reject", "Counters.Total"];
  const out = { namespace: ns, values: {}, query: {}, refused: {} };
  for (const n of names) out.values[n] = await read(n);
  // browse from the standard Objects folder finds the station
  const objects = await session.browse("ns=0;i=85");
  out.objects = objects.references.map((r) => r.browseName.name);
  // ask about one strip
  const w = await session.write({ nodeId: id("Query.RequestId"), attributeId: AttributeIds.Value,
    value: { value: { dataType: DataType.String, value: requestId } } });
  out.query.write = w.name;
  for (const n of ["Found", "ResultId", "Decision", "DefectScore", "Path", "RecipeId"]) out.query[n] = await read("Query." + n);
  // writes the server must refuse
  const s1 = await session.write({ nodeId: id("LastResult.Decision"), attributeId: AttributeIds.Value,
    value: { value: { dataType: DataType.String, value: "PASS" } } });
  out.refused.decision = s1.name;
  out.refused.decisionAfter = await read("LastResult.Decision");
  const s2 = await session.write({ nodeId: "ns=9;s=Nothing", attributeId: AttributeIds.Value,
    value: { value: { dataType: DataType.String, value: "x" } } });
  out.refused.unknownNamespace = s2.name;
  const s3 = await session.write({ nodeId: id("Query.RequestId"), attributeId: AttributeIds.Value,
    value: { value: { dataType: DataType.Int32, value: 7 } } });
  out.refused.wrongType = s3.name;
  out.stateAfter = await read("SystemState");
  console.log("RESULT " + JSON.stringify(out)); // node-opcua logs to stdout too
  await session.close();
  await client.disconnect();
})().catch((e) => { console.error("client: " + e.message); process.exit(1); });
