// CheckCredit from Node (@grpc/grpc-js + the .proto files): prints the decision as JSON.
// usage: node check_credit.js HOST:PORT TOKEN COMPANY CUSTOMER UNITS [NANOS]
const path = require("path");
const grpc = require("@grpc/grpc-js");
const loader = require("@grpc/proto-loader");

const [target, token, company, customer, units, nanos] = process.argv.slice(2);
const root = path.resolve(__dirname, "../../proto");
const def = loader.loadSync(path.join(root, "finance/credit/v1/credit_service.proto"),
  { includeDirs: [root], keepCase: true, longs: String, defaults: true });
const pkg = grpc.loadPackageDefinition(def);
const client = new pkg.finance.credit.v1.CreditService(target, grpc.credentials.createInsecure());
const md = new grpc.Metadata();
md.add("authorization", `Bearer ${token}`);
const req = { company_id: company, customer_code: customer,
  amount: { currency_code: "CNY", units: units, nanos: Number(nanos || 0) } };
client.CheckCredit(req, md, { deadline: Date.now() + 5000 }, (err, res) => {
  if (err) { console.error(JSON.stringify({ code: err.code, details: err.details })); process.exit(2); }
  console.log(JSON.stringify(res));
  process.exit(0);
});
