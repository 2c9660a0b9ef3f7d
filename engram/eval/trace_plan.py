"""The script of the synthetic agent trace: a DevOps migration, its subgoals and their steps.

A world of concrete values is drawn from a seed (``world``); ``PLAN`` is the task as nested
subgoals, each a list of scripted steps ``(intent, action, observation)`` whose ``{name}``
placeholders are values of the world and ``{#lo-hi}`` random integers. ``REUSE`` holds the
templates of steps that come back to an earlier value (by the kind of value), ``NOISE`` those of
routine steps that nothing later depends on. ``engram.eval.agent_trace`` turns these into a trace.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["NOISE", "PLAN", "REUSE", "ROOT_GOAL", "Fact", "Scripted", "Sub", "world"]


@dataclass(frozen=True, slots=True)
class Fact:
    """A value of the world: what it is (``key``, as an agent would name it), its kind, the value."""

    key: str
    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Scripted:
    """A scripted step. ``also`` names values the step needs without writing them in its action."""

    intent: str
    action: str
    observation: str
    also: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Sub:
    """A subgoal: its goal and its steps and nested subgoals, in order."""

    goal: str
    body: tuple[Scripted | Sub, ...] = field(default_factory=tuple)


def world(rng: random.Random) -> dict[str, Fact]:
    """The values of one trace, drawn from ``rng``."""

    def hexa(n: int) -> str:
        return "".join(rng.choice("0123456789abcdef") for _ in range(n))

    def upper(n: int) -> str:
        return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(n))

    def ip(first: int) -> str:
        return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"

    domain = rng.choice(["acme-shop.net", "globex-retail.io", "initech.dev", "umbrella-store.com"])
    env = rng.choice(["prod", "prd", "live"])
    region = rng.choice(["eu-west-1", "us-east-2", "ap-southeast-1", "eu-central-1"])
    app, db, cache = rng.randint(10, 60), rng.randint(1, 9), rng.randint(1, 9)
    day = f"2024{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    cluster = f"orders-{region}-{hexa(4)}"
    rds = f"orders-pg-{hexa(4)}"
    major, minor = rng.randint(12, 19), rng.randint(0, 9)
    tag = f"2.{minor + 1}.0"
    kube = f"1.{rng.randint(27, 30)}"
    facts = {
        "app_host_1": ("first old application server", "host", f"app-{app}.{env}.{domain}"),
        "app_host_2": ("second old application server", "host", f"app-{app + 1}.{env}.{domain}"),
        "app_host_3": ("third old application server", "host", f"app-{app + 2}.{env}.{domain}"),
        "config_path": ("orders service config file", "path", f"/etc/orders/orders-{env}.yaml"),
        "app_port": ("orders service port", "port", str(rng.randint(8000, 9899))),
        "app_version": ("running orders service version", "version", f"2.{minor}.{rng.randint(1, 19)}"),
        "old_lb_dns": ("old load balancer hostname", "host", f"orders-{env}-{rng.randint(10**8, 10**9)}.elb.example"),
        "old_db_host": ("primary database host", "host", f"db-{db:02d}.{env}.{domain}"),
        "old_db_port": ("database port", "port", str(rng.randint(5433, 5439))),
        "db_name": ("orders database name", "name", f"orders_{env}"),
        "cache_host": ("Redis cache host", "host", f"cache-{cache:02d}.{env}.{domain}"),
        "cache_port": ("Redis cache port", "port", str(rng.randint(6380, 6399))),
        "ticket_id": ("migration change ticket", "id", f"CHG-{rng.randint(1000, 9999)}"),
        "pg_version": ("PostgreSQL version", "version", f"{major}.{rng.randint(2, 14)}"),
        "db_size": ("orders database size", "number", f"{rng.randint(120, 480)} GB"),
        "replica_ip": ("database replica address", "ip", ip(10)),
        "row_count": ("row count of the orders table", "number", str(rng.randint(10**6, 10**7))),
        "redis_version": ("Redis version", "version", f"7.{rng.randint(0, 2)}.{rng.randint(1, 15)}"),
        "cache_maxmemory": ("cache memory limit", "number", f"{rng.randint(2, 16)}gb"),
        "region": ("cloud region", "name", region),
        "cluster_name": ("new cluster name", "name", cluster),
        "cluster_id": ("new cluster id", "id", f"cl-{hexa(10)}"),
        "kube_version": ("Kubernetes version", "version", kube),
        "api_endpoint": ("cluster API endpoint", "url", f"https://{upper(12)}.yl4.{region}.eks.amazonaws.com"),
        "node_1": ("first cluster node", "host", f"ip-10-20-{rng.randint(0, 63)}-{rng.randint(1, 254)}.internal"),
        "node_2": ("second cluster node", "host", f"ip-10-20-{rng.randint(64, 127)}-{rng.randint(1, 254)}.internal"),
        "node_3": ("third cluster node", "host", f"ip-10-20-{rng.randint(128, 191)}-{rng.randint(1, 254)}.internal"),
        "k8s_ns": ("Kubernetes namespace of the service", "name", f"orders-{env}"),
        "ingress_lb": ("ingress load balancer hostname", "host", f"a{hexa(16)}.elb.{region}.amazonaws.com"),
        "vpc_id": ("VPC of the new cluster", "id", f"vpc-{hexa(8)}"),
        "subnet_a": ("first subnet of the cluster", "id", f"subnet-{hexa(8)}"),
        "subnet_b": ("second subnet of the cluster", "id", f"subnet-{hexa(8)}"),
        "cluster_sg": ("cluster security group", "id", f"sg-{hexa(8)}"),
        "old_vpc_id": ("VPC of the old servers", "id", f"vpc-{hexa(8)}"),
        "peering_id": ("VPC peering connection", "id", f"pcx-{hexa(8)}"),
        "db_sg": ("database security group", "id", f"sg-{hexa(8)}"),
        "sg_rule": ("database ingress rule", "id", f"sgr-{hexa(8)}"),
        "old_db_ip": ("IP address of the old database", "ip", ip(10)),
        "rds_id": ("new database instance", "name", rds),
        "dump_path": ("database dump file", "path", f"/var/backups/orders/orders-{day}.dump"),
        "dump_size": ("size of the dump", "number", f"{rng.randint(30, 90)}.{rng.randint(1, 9)} GB"),
        "dump_md5": ("checksum of the dump", "digest", hexa(32)),
        "backup_bucket": ("backup bucket", "name", f"orders-backups-{hexa(6)}"),
        "dump_key": ("key of the uploaded dump", "path", f"orders/{day}/orders.dump"),
        "new_db_host": ("new database endpoint", "host", f"{rds}.{hexa(12)}.{region}.rds.amazonaws.com"),
        "secret_path": ("database credentials secret", "path", f"secret/orders/{env}/db"),
        "restored_tables": ("number of restored tables", "number", str(rng.randint(40, 160))),
        "git_host": ("git server", "host", f"git.{domain}"),
        "head_commit": ("release branch head commit", "id", hexa(7)),
        "image_tag": ("release image tag", "version", f"{tag}-k8s.1"),
        "bump_commit": ("version bump commit", "id", hexa(7)),
        "image_repo": ("image repository", "name", f"registry.{domain}/shop/orders"),
        "image_id": ("local image id", "id", hexa(12)),
        "image_digest": ("release image digest", "digest", f"sha256:{hexa(64)}"),
        "manifest_path": ("deployment manifest", "path", f"deploy/orders-{env}.yaml"),
        "svc_ip": ("cluster IP of the service", "ip", ip(172)),
        "ingress_host": ("new ingress hostname", "host", f"orders-k8s.{domain}"),
        "test_run_id": ("smoke test run", "id", f"run-{rng.randint(10000, 99999)}"),
        "failing_test": (
            "failing smoke test",
            "name",
            rng.choice(["test_checkout_applies_discount", "test_order_total_with_coupon", "test_refund_keeps_promo"]),
        ),
        "error_id": ("error id in the logs", "id", f"err-{hexa(8)}"),
        "bug_file": ("file with the bug", "path", f"src/orders/{rng.choice(['pricing', 'discounts', 'checkout'])}.py"),
        "bug_line": ("line of the bug", "number", str(rng.randint(100, 480))),
        "fix_commit": ("commit of the fix", "id", hexa(7)),
        "fixed_tag": ("fixed image tag", "version", f"{tag}-k8s.2"),
        "fixed_digest": ("fixed image digest", "digest", f"sha256:{hexa(64)}"),
        "rerun_id": ("smoke test rerun", "id", f"run-{rng.randint(10000, 99999)}"),
        "domain": ("public domain", "name", domain),
        "zone_id": ("hosted zone of the domain", "id", f"Z{upper(13)}"),
        "public_host": ("public orders hostname", "host", f"orders.{domain}"),
        "change_ttl": ("TTL change", "id", f"C{upper(12)}"),
        "change_dns": ("DNS switch change", "id", f"C{upper(12)}"),
        "ingress_ip": ("public IP of the ingress", "ip", ip(52)),
        "old_instance_1": ("instance of the first old server", "id", f"i-{hexa(8)}"),
        "old_instance_2": ("instance of the second old server", "id", f"i-{hexa(8)}"),
        "old_instance_3": ("instance of the third old server", "id", f"i-{hexa(8)}"),
        "report_path": ("migration report", "path", f"docs/migrations/orders-{day}.md"),
    }
    return {name: Fact(*fields) for name, fields in facts.items()}


S = Scripted
PSQL = "psql -h {old_db_host} -p {old_db_port}"
KUBE = "kubectl --context {cluster_name} -n {k8s_ns}"
ROOT_GOAL = "Migrate the orders service from the old servers to a new Kubernetes cluster"

INVENTORY = Sub(
    "Inventory the current production deployment of the orders service",
    (
        S(
            "find the servers the orders service runs on",
            "aws ec2 describe-instances --filters Name=tag:service,Values=orders --query 'Reservations[].Instances[]'",
            "PrivateDnsName {app_host_1}, {app_host_2}, {app_host_3}; State running",
        ),
        S(
            "read how the orders service is started on the first old application server",
            "ssh ops@{app_host_1} systemctl cat orders",
            "ExecStart=/opt/orders/bin/orders --config {config_path}; User=orders; active (running) for {#20-400} days",
        ),
        S(
            "read the orders service config file",
            "ssh ops@{app_host_1} cat {config_path}",
            "listen: 0.0.0.0:{app_port}\ndatabase_url: postgres://orders@{old_db_host}:{old_db_port}/{db_name}\n"
            "redis_url: redis://{cache_host}:{cache_port}/0\nworkers: {#4-16}\nlog_level: info",
        ),
        S(
            "check which version of the orders service is running",
            "curl -s http://{app_host_1}:{app_port}/version",
            '{"service": "orders", "version": "{app_version}", "uptime_s": {#10000-999999}}',
        ),
        S(
            "find the load balancer in front of the old servers",
            "aws elb describe-load-balancers --load-balancer-names orders-prod",
            "DNSName {old_lb_dns}; 3 instances InService; HealthCheck HTTP:{app_port}/health",
        ),
        Sub(
            "Inspect the old PostgreSQL database server",
            (
                S(
                    "connect to the primary database host and read its version",
                    PSQL + " -U orders -c 'select version()'",
                    "PostgreSQL {pg_version} on x86_64-pc-linux-gnu, compiled by gcc 11.4.0, 64-bit",
                ),
                S(
                    "measure the size of the orders database",
                    PSQL + " -c \"select pg_size_pretty(pg_database_size('{db_name}'))\"",
                    "{db_size}",
                ),
                S(
                    "check whether the database has a streaming replica",
                    PSQL + " -c 'select client_addr, state from pg_stat_replication'",
                    "client_addr {replica_ip} | state streaming | replay_lag 00:00:00.0{#10-99}",
                ),
                S(
                    "list the database extensions in use",
                    PSQL + " -d {db_name} -c '\\dx'",
                    "plpgsql 1.0; pg_trgm 1.6; uuid-ossp 1.1 (3 rows)",
                ),
                S(
                    "count the rows of the orders table",
                    PSQL + " -d {db_name} -c 'select count(*) from orders'",
                    "count {row_count} (1 row)",
                ),
            ),
        ),
        Sub(
            "Inspect the old Redis cache",
            (
                S(
                    "read the server info of the Redis cache",
                    "redis-cli -h {cache_host} -p {cache_port} info server",
                    "redis_version {redis_version}; uptime_in_days {#10-300}; tcp_port {cache_port}",
                ),
                S(
                    "read the memory limit of the cache",
                    "redis-cli -h {cache_host} -p {cache_port} config get maxmemory",
                    "maxmemory {cache_maxmemory}; maxmemory-policy allkeys-lru",
                ),
                S(
                    "count the keys in the cache",
                    "redis-cli -h {cache_host} -p {cache_port} dbsize",
                    "(integer) {#100000-900000}",
                ),
            ),
        ),
        S(
            "open a change ticket for the migration",
            "jira create --project OPS --type Change --summary 'Move the orders service to Kubernetes'",
            "Created {ticket_id}: Move the orders service to Kubernetes (status Open)",
        ),
    ),
)

PROVISION = Sub(
    "Provision the new Kubernetes cluster",
    (
        S(
            "create the new Kubernetes cluster",
            "eksctl create cluster --name {cluster_name} --region {region} --version {kube_version} --nodes 3",
            "cluster {cluster_name} created; id {cluster_id}; status CREATING",
        ),
        S(
            "wait until the new cluster is active",
            "aws eks describe-cluster --name {cluster_name} --query cluster.status",
            '"ACTIVE" after {#8-19} min',
        ),
        S(
            "get the API endpoint of the new cluster",
            "aws eks describe-cluster --name {cluster_name} --query cluster.endpoint",
            '"{api_endpoint}"',
        ),
        S(
            "write the kubeconfig of the new cluster",
            "aws eks update-kubeconfig --name {cluster_name} --alias {cluster_name}",
            "Added new context {cluster_name} to /home/ops/.kube/config",
        ),
        S(
            "list the nodes of the new cluster",
            "kubectl --context {cluster_name} get nodes",
            "{node_1} Ready v{kube_version}; {node_2} Ready v{kube_version}; {node_3} Ready v{kube_version}",
        ),
        S(
            "create the Kubernetes namespace of the orders service",
            "kubectl --context {cluster_name} create namespace {k8s_ns}",
            "namespace/{k8s_ns} created",
        ),
        S(
            "install the ingress controller",
            "helm --kube-context {cluster_name} install ingress-nginx ingress-nginx/ingress-nginx -n ingress",
            "STATUS: deployed; REVISION: 1; LoadBalancer {ingress_lb}",
        ),
    ),
)

NETWORK = Sub(
    "Connect the network of the new cluster to the old servers",
    (
        S(
            "find the VPC and subnets of the new cluster",
            "aws eks describe-cluster --name {cluster_name} --query cluster.resourcesVpcConfig",
            "vpcId {vpc_id}; subnetIds {subnet_a}, {subnet_b}; clusterSecurityGroupId {cluster_sg}",
        ),
        S(
            "find the VPC of the old servers",
            "aws ec2 describe-instances --filters Name=private-dns-name,Values={app_host_1} --query VpcId",
            '"{old_vpc_id}"',
        ),
        S(
            "peer the new VPC with the old one",
            "aws ec2 create-vpc-peering-connection --vpc-id {vpc_id} --peer-vpc-id {old_vpc_id}",
            "VpcPeeringConnectionId {peering_id}; Status pending-acceptance",
        ),
        S(
            "accept the VPC peering connection",
            "aws ec2 accept-vpc-peering-connection --vpc-peering-connection-id {peering_id}",
            "Status active",
        ),
        S(
            "create a security group for database access",
            "aws ec2 create-security-group --group-name orders-db --vpc-id {vpc_id} --description 'orders database'",
            "GroupId {db_sg}",
        ),
        S(
            "open the database port of the database security group to the cluster security group",
            "aws ec2 authorize-security-group-ingress --group-id {db_sg} --protocol tcp --port {old_db_port} "
            "--source-group {cluster_sg}",
            "Return true; SecurityGroupRuleId {sg_rule}",
        ),
        S(
            "check that the cluster can reach the old database",
            "kubectl --context {cluster_name} run nettest --rm -i --image=busybox -- "
            "nc -zv {old_db_host} {old_db_port}",
            "{old_db_host} ({old_db_ip}:{old_db_port}) open",
        ),
    ),
)

DATABASE = Sub(
    "Migrate the orders database to a managed PostgreSQL",
    (
        S(
            "create the new managed PostgreSQL database with the old version and port in the database security group",
            "aws rds create-db-instance --db-instance-identifier {rds_id} --engine postgres --engine-version "
            "{pg_version} --port {old_db_port} --vpc-security-group-ids {db_sg} --allocated-storage 500",
            "DBInstanceIdentifier {rds_id}; DBInstanceStatus creating",
        ),
        Sub(
            "Dump the old database and keep a verified copy",
            (
                S(
                    "dump the orders database to a file",
                    PSQL.replace("psql", "pg_dump") + " -Fc -d {db_name} -f {dump_path}",
                    "pg_dump finished in {#6-48} min; {dump_path} is {dump_size}",
                ),
                S("checksum the dump file", "md5sum {dump_path}", "{dump_md5}  {dump_path}"),
                S(
                    "upload the dump to the backup bucket",
                    "aws s3 cp {dump_path} s3://{backup_bucket}/{dump_key}",
                    "upload: {dump_path} to s3://{backup_bucket}/{dump_key} ({#40-300} MiB/s)",
                ),
                S(
                    "verify the checksum of the uploaded dump",
                    "aws s3 cp s3://{backup_bucket}/{dump_key} - | md5sum",
                    "{dump_md5}  - (matches the local checksum)",
                    also=("dump_md5",),
                ),
            ),
        ),
        S(
            "get the endpoint of the new database instance",
            "aws rds describe-db-instances --db-instance-identifier {rds_id} --query 'DBInstances[0].Endpoint'",
            "Address {new_db_host}; Port {old_db_port}; status available",
        ),
        S(
            "store the credentials of the new database",
            "vault kv put {secret_path} username=orders password=@/dev/stdin",
            "Success! Data written to: {secret_path} (version 1)",
        ),
        S(
            "restore the dump into the new database",
            "pg_restore -h {new_db_host} -p {old_db_port} -d {db_name} --jobs 4 {dump_path}",
            "restored {restored_tables} tables and {#40-120} indexes; 0 errors",
        ),
        S(
            "compare the row counts of the old and new databases",
            "psql -h {new_db_host} -p {old_db_port} -d {db_name} -c 'select count(*) from orders'",
            "count {row_count} (1 row), the same as the old database",
            also=("row_count",),
        ),
    ),
)

IMAGE = Sub(
    "Build the container image of the orders service",
    (
        S(
            "check out the release branch of the orders service",
            "git clone git@{git_host}:shop/orders.git && git -C orders checkout release/{app_version}",
            "HEAD is now at {head_commit} Release {app_version}",
        ),
        S(
            "set the version of the Kubernetes release",
            "echo {image_tag} > orders/VERSION && git -C orders commit -am 'Release {image_tag}'",
            "[release/{app_version} {bump_commit}] Release {image_tag}",
        ),
        S(
            "build the container image",
            "docker build -t {image_repo}:{image_tag} orders",
            "Successfully built {image_id}; Successfully tagged {image_repo}:{image_tag}",
        ),
        S(
            "scan the image for vulnerabilities",
            "trivy image --severity HIGH,CRITICAL {image_repo}:{image_tag}",
            "Total: 0 (HIGH: 0, CRITICAL: 0)",
        ),
        S(
            "push the image to the registry",
            "docker push {image_repo}:{image_tag}",
            "{image_tag}: digest: {image_digest} size: {#2000-9000}",
        ),
    ),
)

DEPLOY = Sub(
    "Deploy the orders service to the new cluster",
    (
        S(
            "copy the database credentials into the cluster",
            "vault kv get -format=json {secret_path} | "
            + KUBE
            + " create secret generic orders-db --from-file=/dev/stdin",
            "secret/orders-db created",
        ),
        S(
            "write the deployment manifest with the pushed image, the service port, the new database and the cache",
            "write {manifest_path}: image {image_repo}@{image_digest}, 3 replicas, port {app_port}, DATABASE_URL "
            "postgres://orders@{new_db_host}:{old_db_port}/{db_name}, REDIS_URL redis://{cache_host}:{cache_port}/0",
            "wrote {#60-140} lines to {manifest_path}",
        ),
        S(
            "apply the deployment manifest",
            KUBE + " apply -f {manifest_path}",
            "deployment.apps/orders created; service/orders created; poddisruptionbudget.policy/orders created",
        ),
        S(
            "wait for the rollout to finish",
            KUBE + " rollout status deployment/orders --timeout 10m",
            'deployment "orders" successfully rolled out (3 of 3 updated replicas are available)',
        ),
        S(
            "find the cluster address of the orders service",
            KUBE + " get service orders",
            "orders ClusterIP {svc_ip} <none> {app_port}/TCP 4m",
        ),
        S(
            "expose the service through the ingress",
            KUBE + " create ingress orders --class nginx --rule '{ingress_host}/*=orders:{app_port}'",
            "ingress.networking.k8s.io/orders created; address {ingress_lb}",
        ),
    ),
)

SMOKE = Sub(
    "Run the smoke tests against the new deployment",
    (
        S(
            "start the smoke test suite against the new ingress hostname",
            "ci run smoke-orders --param base_url=https://{ingress_host}",
            "Started run {test_run_id} (48 tests)",
        ),
        S(
            "wait for the smoke test run to finish",
            "ci wait {test_run_id}",
            "run {test_run_id} finished: 47 passed, 1 failed, {#3-9} min",
        ),
        S(
            "find out which smoke test failed",
            "ci logs {test_run_id} --failed-only",
            "FAILED {failing_test}: expected status 200, got 500",
        ),
        S(
            "find the error in the service logs",
            KUBE + " logs deployment/orders --since 15m | grep ERROR",
            "ERROR {error_id} KeyError: 'discount_code' at {bug_file}:{bug_line} in apply_discount",
        ),
    ),
)

FIX = Sub(
    "Fix the failing smoke test",
    (
        S(
            "read the code where the error was raised",
            "sed -n '{bug_line},+6p' orders/{bug_file}",
            "{bug_line}:    code = payload['discount_code']  # orders without a promotion have no code",
        ),
        S(
            "make the code tolerate a missing discount code",
            "patch orders/{bug_file} line {bug_line}: payload.get('discount_code')",
            "1 file changed, 1 insertion(+), 1 deletion(-)",
        ),
        S(
            "run the unit tests of the fixed module",
            "pytest orders/tests -q -k discount",
            "{#12-40} passed in {#2-9}.{#10-99}s",
        ),
        S(
            "commit and push the fix",
            "git -C orders commit -am 'Tolerate orders without a discount code' && git -C orders push",
            "[release/{app_version} {fix_commit}] Tolerate orders without a discount code",
        ),
        S(
            "build and push the fixed image",
            "docker build -t {image_repo}:{fixed_tag} orders && docker push {image_repo}:{fixed_tag}",
            "{fixed_tag}: digest: {fixed_digest} size: {#2000-9000}",
        ),
        S(
            "roll the deployment to the fixed image",
            KUBE + " set image deployment/orders orders={image_repo}@{fixed_digest}",
            "deployment.apps/orders image updated; rollout complete",
        ),
        S(
            "rerun the failed smoke test",
            "ci run smoke-orders --param base_url=https://{ingress_host} --only {failing_test}",
            "run {rerun_id}: 1 passed, 0 failed",
        ),
    ),
)

DNS = Sub(
    "Switch the public hostname to the new deployment",
    (
        S(
            "find the hosted zone of the public domain",
            "aws route53 list-hosted-zones-by-name --dns-name {domain}",
            "Id /hostedzone/{zone_id}; Name {domain}.; {#20-90} records",
        ),
        S(
            "read the current DNS record of the public orders hostname",
            "aws route53 list-resource-record-sets --hosted-zone-id {zone_id} --query \"[?Name=='{public_host}.']\"",
            "{public_host}. CNAME {old_lb_dns} TTL 300",
        ),
        S(
            "lower the TTL of the record before the switch",
            "aws route53 change-resource-record-sets --hosted-zone-id {zone_id} "
            "--change-batch 'UPSERT {public_host} CNAME {old_lb_dns} TTL 60'",
            "ChangeInfo Id /change/{change_ttl}; Status PENDING",
        ),
        S(
            "point the public hostname at the new ingress",
            "aws route53 change-resource-record-sets --hosted-zone-id {zone_id} "
            "--change-batch 'UPSERT {public_host} CNAME {ingress_lb} TTL 60'",
            "ChangeInfo Id /change/{change_dns}; Status PENDING",
        ),
        S("wait for the DNS change to be applied", "aws route53 get-change --id {change_dns}", "Status INSYNC"),
        S(
            "check that the public hostname resolves to the new ingress",
            "dig +short {public_host}",
            "{ingress_lb}.\n{ingress_ip}",
        ),
    ),
)

DECOMMISSION = Sub(
    "Decommission the old servers",
    (
        S(
            "find the instance ids of the old application servers",
            "aws ec2 describe-instances --filters Name=private-dns-name,Values={app_host_1},{app_host_2},{app_host_3}",
            "InstanceId {old_instance_1}, {old_instance_2}, {old_instance_3}",
        ),
        S(
            "take the old servers out of the old load balancer",
            "aws elb deregister-instances-from-load-balancer --load-balancer-name orders-prod "
            "--instances {old_instance_1} {old_instance_2} {old_instance_3}",
            "Instances: [] (0 registered)",
        ),
        S(
            "stop the old application servers",
            "aws ec2 stop-instances --instance-ids {old_instance_1} {old_instance_2} {old_instance_3}",
            "StoppingInstances: 3; CurrentState stopping",
        ),
        S(
            "stop the old database server",
            "ssh ops@{old_db_host} sudo systemctl stop postgresql",
            "postgresql.service: Deactivated successfully",
        ),
        S(
            "note the decommissioning in the change ticket",
            "jira comment {ticket_id} 'Old servers stopped: {old_instance_1} {old_instance_2} {old_instance_3}'",
            "Comment {#10000-99999} added to {ticket_id}",
        ),
    ),
)

REPORT = Sub(
    "Write the migration report",
    (
        S(
            "start the report with the name, id, version and API endpoint of the new cluster",
            "write {report_path}: cluster {cluster_name} (id {cluster_id}), Kubernetes {kube_version}, "
            "API {api_endpoint}",
            "{report_path}: 3 lines",
        ),
        S(
            "add where the database moved from and to, with its size and row count",
            "append {report_path}: database {db_name} ({db_size}, {row_count} orders) moved from "
            "{old_db_host}:{old_db_port} to {new_db_host}",
            "{report_path}: 5 lines",
        ),
        S(
            "add the database dump and its checksum",
            "append {report_path}: dump s3://{backup_bucket}/{dump_key}, md5 {dump_md5}",
            "{report_path}: 6 lines",
        ),
        S(
            "add the image tags and digest and the smoke test runs",
            "append {report_path}: image {image_repo}:{image_tag}, then {fixed_tag} ({fixed_digest}); smoke runs "
            "{test_run_id} (failed {failing_test}) and {rerun_id}",
            "{report_path}: 8 lines",
        ),
        S(
            "add the bug fix: its commit and the file and line it changed",
            "append {report_path}: fix {fix_commit} in {bug_file} line {bug_line}",
            "{report_path}: 9 lines",
        ),
        S(
            "add the DNS switch: the hostname, its new target, the change and the zone",
            "append {report_path}: {public_host} now CNAME {ingress_lb} (change {change_dns}, zone {zone_id})",
            "{report_path}: 10 lines",
        ),
        S(
            "attach the report to the change ticket and close it",
            "jira attach {ticket_id} {report_path} && jira transition {ticket_id} Done",
            "{ticket_id} is Done",
        ),
    ),
)

PLAN = Sub(ROOT_GOAL, (INVENTORY, PROVISION, NETWORK, DATABASE, IMAGE, DEPLOY, SMOKE, FIX, DNS, DECOMMISSION, REPORT))

# Steps that come back to an earlier value, by its kind: (intent, action, observation); ``{key}``
# is what the value is, ``{v}`` the value.
REUSE: dict[str, tuple[tuple[str, str, str], ...]] = {
    "host": (
        (
            "check that the {key} answers",
            "ping -c 3 {v}",
            "3 packets transmitted, 3 received, rtt avg {#1-40}.{#1-9} ms",
        ),
        ("look up the address of the {key}", "dig +short {v}", "10.{#0-255}.{#0-255}.{#1-254}"),
        (
            "check the TLS certificate of the {key}",
            "openssl s_client -connect {v}:443 | grep NotAfter",
            "NotAfter: Mar {#1-28} 12:00:00 2025 GMT",
        ),
    ),
    "port": (
        ("count the connections on the {key}", "ss -tn state established '( sport = :{v} )' | wc -l", "{#2-180}"),
        (
            "check the firewall rule for the {key}",
            "sudo iptables -S | grep -- '--dport {v}'",
            "-A INPUT -p tcp --dport {v} -j ACCEPT",
        ),
    ),
    "id": (
        ("check the state of the {key}", "inventory show {v}", "{v}: exists; owner ops; changed {#2-59} min ago"),
        ("add the {key} to the working notes", "echo '{v}' >> notes.txt", "notes.txt: {#3-60} lines"),
    ),
    "path": (
        ("check that the {key} is in place", "ls -l {v}", "-rw-r----- 1 ops ops {#1200-99000} Jun {#1-28} {v}"),
        ("check who last changed the {key}", "git log -1 --format='%an %ar' -- {v}", "ops-bot {#2-11} days ago"),
    ),
    "version": (
        (
            "read the release notes of the {key}",
            "open https://releases.example/{v}",
            "{v}: {#2-9} fixes, no breaking changes",
        ),
    ),
    "name": (
        ("search the runbooks for the {key}", "grep -rl '{v}' runbooks/", "runbooks/orders.md; runbooks/oncall.md"),
    ),
    "url": (("check that the {key} responds", "curl -skI {v} | head -1", "HTTP/2 401"),),
    "ip": (("check the route to the {key}", "traceroute -n -m 5 {v}", "{#2-5} hops, last {v} {#1-9}.{#1-9} ms"),),
}

# Routine steps nothing later depends on (their numbers are noise that looks like values).
NOISE: tuple[tuple[str, str, str], ...] = (
    ("check the load of the workstation", "uptime", "load average: {#0-3}.{#10-99}, {#0-3}.{#10-99}, {#0-3}.{#10-99}"),
    ("check the free disk space", "df -h /", "/dev/nvme0n1p1 {#60-200}G {#10-59}G {#10-80}% /"),
    (
        "read the on-call channel",
        "slack read '#ops-oncall' --last 3",
        "OPS-{#1000-9999} closed; deploy freeze ends {#12-18}:00; {#2-9} alerts acknowledged",
    ),
    ("check the CI queue", "ci queue", "{#0-14} jobs queued; the oldest has waited {#1-40} min"),
    (
        "check the service dashboard",
        "grafana snapshot orders-overview",
        "p95 latency {#80-400} ms; error rate 0.{#10-99}%; {#120-900} requests/s",
    ),
    ("renew the cloud login", "aws sso login --profile prod", "Logged in; session valid for {#4-12} h"),
    ("check the time", "date -u", "Tue Jun {#10-28} {#10-23}:{#10-59}:{#10-59} UTC 2024"),
    ("check for alerts", "alertmanager list --active", "{#0-4} active alerts, none for orders"),
    (
        "read the team chat",
        "slack read '#orders-team' --last 2",
        "PR #{#100-999} merged; standup moved to {#9-11}:{#10-59}",
    ),
    (
        "check the cloud bill so far",
        "aws ce get-cost-and-usage --granularity DAILY",
        "yesterday {#300-900}.{#10-99} USD",
    ),
    (
        "look at recent cloud audit events",
        "aws cloudtrail lookup-events --max-results 3",
        "AssumeRole, DescribeInstances, GetObject (request {#100000-999999})",
    ),
)
